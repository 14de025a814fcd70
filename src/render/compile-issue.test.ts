import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import mjml2html from 'mjml';
import { describe, expect, it } from 'vitest';
import { parseIssue, parseIssueFile } from '../issue/parse-issue.js';
import { EXAMPLE_ISSUE, EXAMPLE_SITE_URL } from '../../test/support/example-issue.js';
import { compileIssue, compileIssueDetailed, IssueCompileError } from './compile-issue.js';
import { TEMPLATE_CONSTANTS } from './template-text.js';
import { DEFAULT_TEMPLATES_DIR } from './templates.js';
import { checkIssue } from './check-issue.js';

const options = { listName: 'Tidewater Weekly', postalAddress: 'Tidewater Project · 1 Quay St · Lisbon' };

describe('compileIssue on the example issue', async () => {
  const issue = parseIssueFile(EXAMPLE_ISSUE, { siteUrl: EXAMPLE_SITE_URL });
  const result = await compileIssueDetailed(issue, options);
  const { compiled } = result;

  it('is plain JSON', () => {
    expect(JSON.parse(JSON.stringify(compiled))).toEqual(compiled);
    expect(compiled.meta).toEqual({ title: issue.title, date: '2026-11-24T09:30:00.000Z', slug: '2026-11-22-update' });
  });

  it('puts every resolved link into the HTML as href and into the text as a URL', () => {
    for (const link of issue.links) {
      const attr = link.kind === 'image' ? 'src' : 'href';
      expect(compiled.htmlTemplate).toContain(`${attr}="${link.url?.replace(/&/g, '&amp;')}"`);
      expect(compiled.textTemplate).toContain(link.url?.replace(/^mailto:/, ''));
    }
  });

  it('has one mj-section per ## section, header, preheader and footer placeholders', () => {
    expect(result.mjml.match(/css-class="issue-text"/g)).toHaveLength(issue.sections.length);
    expect(compiled.preheader).toMatch(/^The Tidewater 3\.2 planning document is open for comments/);
    expect(compiled.htmlTemplate).toContain('November 24, 2026');
    expect(compiled.htmlTemplate).toContain('href="{{unsubscribeUrl}}"');
    expect(compiled.htmlTemplate).toContain('{{#if archiveUrl}}');
    expect(compiled.htmlTemplate).toContain('Tidewater Project · 1 Quay St · Lisbon');
    expect(compiled.textTemplate).toContain('Unsubscribe with one click: {{unsubscribeUrl}}');
  });

  it('inlines the theme CSS into the Markdown HTML (body text 16px)', () => {
    expect(compiled.htmlTemplate).toMatch(/<p style="[^"]*font-size: 16px/);
    expect(compiled.htmlTemplate).toMatch(/<pre style="[^"]*white-space: pre-wrap/);
  });

  it('escapes editor-written braces so they are never Handlebars', () => {
    expect(compiled.htmlTemplate).not.toContain('{{vessel');
    expect(compiled.htmlTemplate).toContain('{{lb}}{{lb}}vessel.name{{rb}}{{rb}}');
  });

  it('the full MJML (content included) passes strict validation', async () => {
    const out = await mjml2html(result.mjml, { validationLevel: 'strict', keepComments: false, fonts: {} });
    expect(out.errors).toEqual([]);
    // The skeleton optimisation (content inserted after MJML) must not change the document.
    const values: Record<string, string> = { archiveUrl: 'ARCHIVE', email: 'EMAIL', unsubscribeUrl: 'UNSUB', name: 'NAME' };
    const ours = Handlebars.compile(compiled.htmlTemplate)({ ...TEMPLATE_CONSTANTS, ...values });
    const full = out.html.replace(/nl[0-9a-f]{12}P(\w+?)Q/g, (_m, n: string) => values[n] ?? '');
    const norm = (h: string): string => h.replace(/\s+/g, ' ');
    const a = norm(ours);
    const b = norm(full);
    let i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    expect(a.slice(i, i + 120)).toBe(b.slice(i, i + 120));
  });

  it('applies SUBJECT_TEMPLATE over the front matter', async () => {
    const c = await compileIssue(issue, { subjectTemplate: '[{{slug}}] {{title}} for {{name}}' });
    expect(c.subjectTemplate).toBe('[2026-11-22-update] Tidewater Weekly: Week Ending November 22, 2026 for {{name}}');
  });
});

describe('compileIssue errors', () => {
  it('refuses an issue without front matter/title with a diagnostic naming file and line', async () => {
    const err = await compileIssue(parseIssue('no front matter here\n', 'plain.md')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IssueCompileError);
    expect((err as Error).message).toMatch(/^plain\.md: line 1: no front matter/);
  });

  it('check reports MJML validation errors (strict) from a broken template as errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emails-'));
    cpSync(DEFAULT_TEMPLATES_DIR, dir, { recursive: true });
    const partial = join(dir, 'partials/section.mjml.hbs');
    writeFileSync(partial, readFileSync(partial, 'utf8').replace('<mj-column>', '<mj-column bogus-attribute="1">'));
    const issue = parseIssue('---\ntitle: T\n---\n\n## A\n\ntext\n', 'mjml.md');
    const d = await checkIssue(issue, { templatesDir: dir });
    expect(d).toEqual([expect.objectContaining({ severity: 'error', file: 'mjml.md', line: 1, message: expect.stringMatching(/^MJML validation .*bogus-attribute/) })]);
    await expect(compileIssue(issue, { templatesDir: dir })).rejects.toBeInstanceOf(IssueCompileError);
  });

  it('check reports links, alt text and Gmail size with lines', async () => {
    const big = Array.from({ length: 600 }, (_, i) => `Item ${i} [link](https://example.com/${i}) with some more words to make it long`).join('\n\n');
    const d = await checkIssue(parseIssue(`---\ntitle: Big\n---\n\n[x]()\n\n![](https://example.com/a.png)\n\n${big}\n`, 'big.md'));
    expect(d.map((x) => [x.severity, x.line, x.message.slice(0, 20)])).toEqual([
      ['error', 1, expect.stringMatching(/^HTML is \d+/)],
      ['error', 5, 'empty link [x]()'],
      ['error', 7, 'image without alt te'],
    ]);
  });
});
