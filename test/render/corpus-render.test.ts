/**
 * The whole LWKD corpus through the compiler: every issue renders to html, text and eml
 * (the real CLI, exit 0), every link a CommonMark parser finds is in the HTML and the text,
 * the MJML is strictly valid, the HTML stays under Gmail's clipping limit, and the raw
 * message reads back with mailparser. One compile per issue feeds every assertion.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { simpleParser } from 'mailparser';
import MarkdownIt from 'markdown-it';
import mjml2html from 'mjml';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseIssueFile } from '../../src/issue/parse-issue.js';
import { compileIssueDetailed, GMAIL_CLIP_BYTES, type CompileResult } from '../../src/render/compile-issue.js';
import { prepareMessages } from '../../src/render/prepare-messages.js';
import { renderForRecipient } from '../../src/render/preview.js';
import { corpusFiles } from '../support/corpus.js';

const SITE_URL = 'https://lwkd.info';
const files = corpusFiles();
const ROOT = join(import.meta.dirname, '../..');

/** Independent oracle: a fresh CommonMark parser, not the compiler's instance. */
const commonmark = new MarkdownIt('commonmark');
function linksOf(markdown: string): Array<{ kind: 'link' | 'image'; href: string }> {
  const body = markdown.replace(/^---\n[\s\S]*?\n---\n/, '');
  const out: Array<{ kind: 'link' | 'image'; href: string }> = [];
  const walk = (tokens: ReturnType<typeof commonmark.parse>): void => {
    for (const t of tokens) {
      if (t.type === 'link_open') out.push({ kind: 'link', href: String(t.attrGet('href')) });
      if (t.type === 'image') out.push({ kind: 'image', href: String(t.attrGet('src')) });
      if (t.children) walk(t.children);
    }
  };
  walk(commonmark.parse(body, {}));
  return out;
}
const absolute = (href: string): string => (href.startsWith('/') && !href.startsWith('//') ? new URL(href, SITE_URL).href : href);
const decodeEntities = (s: string): string =>
  s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot);/gi, (_m, e: string) =>
    e[0] === '#' ? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : ({ amp: '&', lt: '<', gt: '>', quot: '"' } as Record<string, string>)[e.toLowerCase()] ?? e,
  );

function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: { ...process.env, SITE_URL } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe.skipIf(files.length === 0)(`corpus (${files.length} issues)`, () => {
  const compiled = new Map<string, CompileResult>();
  const recipient = { subscriberId: 1, email: 'reader@example.com', name: 'Corpus Reader', unsubscribeUrl: 'https://news.example.org/u/token' };
  const messageOptions = { from: 'LWKD <lwkd@example.org>', campaignId: 1, listId: 'LWKD <default.lwkd.example.org>', unsubscribeMailto: 'unsubscribe@example.org' };

  beforeAll(async () => {
    for (const file of files) compiled.set(file, await compileIssueDetailed(parseIssueFile(file, { siteUrl: SITE_URL }), { listName: 'LWKD', postalAddress: 'LWKD, 1 Example Way' }));
  }, 600_000);

  it('renders every issue to html, text and eml with the CLI, exit 0', async () => {
    const out = mkdtempSync(join(tmpdir(), 'corpus-render-'));
    const formats = ['html', 'text', 'eml'];
    const results = await Promise.all(formats.map((format) => runCli(['render', ...files, '--format', format, '--out-dir', join(out, format)])));
    results.forEach((result, i) => {
      expect(result.code, result.stderr.slice(0, 2000)).toBe(0);
      expect(readdirSync(join(out, formats[i] as string))).toHaveLength(files.length);
    });
  }, 600_000);

  it('every CommonMark link is an href in the HTML and a URL in the text', () => {
    let checked = 0;
    for (const file of files) {
      const { compiled: c, diagnostics } = compiled.get(file) as CompileResult;
      const { html, text } = renderForRecipient(c, recipient);
      const hrefs = new Set([...html.matchAll(/\s(?:href|src)="([^"]*)"/g)].map((m) => decodeEntities(m[1] as string)));
      for (const link of linksOf(readFileSync(file, 'utf8'))) {
        if (link.href === '') {
          // Editors' `[x]()`: check reports it; the email keeps the text without a dead link.
          expect(diagnostics.some((d) => d.message.startsWith('empty link'))).toBe(true);
          continue;
        }
        const url = absolute(link.href);
        expect(hrefs.has(url), `${basename(file)}: ${url} missing from HTML`).toBe(true);
        expect(text.includes(url.replace(/^mailto:/, '')), `${basename(file)}: ${url} missing from text`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(files.length * 5);
  });

  it('HTML under 102 KB for every issue', () => {
    for (const file of files) {
      const r = compiled.get(file) as CompileResult;
      expect(r.htmlBytes, basename(file)).toBeLessThan(GMAIL_CLIP_BYTES);
      expect(Buffer.byteLength(renderForRecipient(r.compiled, recipient).html)).toBeLessThan(GMAIL_CLIP_BYTES);
    }
  });

  it('raw MIME: lines ≤ 998 octets, mailparser reads subject, both parts and both List-Unsubscribe URIs', async () => {
    for (const file of files) {
      const { compiled: c } = compiled.get(file) as CompileResult;
      const raw = prepareMessages(c, messageOptions).build(recipient).raw;
      const lines = raw.toString('latin1').split('\r\n');
      expect(Math.max(...lines.map((l) => l.length)), basename(file)).toBeLessThanOrEqual(998);
      const mail = await simpleParser(raw);
      expect(mail.subject).toBe(c.meta.title);
      expect(mail.text?.length).toBeGreaterThan(100);
      expect(mail.html && mail.html.length).toBeGreaterThan(1000);
      expect(mail.headers.get('list')).toMatchObject({ unsubscribe: { url: recipient.unsubscribeUrl, mail: 'unsubscribe@example.org' } });
    }
  });

  it('the full MJML of every issue passes strict validation with zero errors', async () => {
    for (const file of files) {
      const out = await mjml2html((compiled.get(file) as CompileResult).mjml, { validationLevel: 'strict', keepComments: false, fonts: {} });
      expect(out.errors, basename(file)).toEqual([]);
    }
  }, 600_000);
});
