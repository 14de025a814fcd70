import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { EXAMPLE_ISSUE, EXAMPLE_SITE_URL } from '../../test/support/example-issue.js';
import { parseIssue, parseIssueFile, MAX_ISSUE_BYTES } from './parse-issue.js';
import { parseJekyllDate } from './front-matter.js';

const dir = mkdtempSync(join(tmpdir(), 'issue-test-'));
const write = (name: string, content: string | Buffer): string => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

describe('parseIssueFile on the example issue', () => {
  const issue = parseIssueFile(EXAMPLE_ISSUE, { siteUrl: EXAMPLE_SITE_URL });

  it('reads front matter despite the blank line before the closing fence', () => {
    expect(issue.title).toBe('Tidewater Weekly: Week Ending November 22, 2026');
    expect(issue.date).toBe('2026-11-24T09:30:00.000Z');
    expect(issue.slug).toBe('2026-11-22-update');
    expect(issue.diagnostics).toEqual([]);
  });

  it('splits ## sections with their file lines', () => {
    expect(issue.sections.map((s) => s.title)).toEqual(['Developer News', 'Release Schedule', 'Featured PRs', 'Other Merges', 'Version Updates']);
    expect(issue.sections[0]?.line).toBe(13);
  });

  it('cuts the web-only header, keeping line numbers', () => {
    expect(issue.body).not.toContain('Subscribe by email');
    expect(issue.links.some((l) => l.href.includes('/subscribe/'))).toBe(false);
    const planning = issue.links.find((l) => l.text === 'Tidewater 3.2 planning document');
    expect(planning?.line).toBe(15);
  });

  it('resolves root-relative links and images against SITE_URL', () => {
    const img = issue.links.find((l) => l.kind === 'image');
    expect(img).toMatchObject({ href: '/images/2026/open-prs-week-47.png', url: `${EXAMPLE_SITE_URL}/images/2026/open-prs-week-47.png`, line: 17 });
    expect(issue.links.find((l) => l.href === '/feed.xml')?.url).toBe(`${EXAMPLE_SITE_URL}/feed.xml`);
    expect(issue.links.find((l) => l.href.startsWith('mailto:'))?.url).toBe('mailto:steering@lists.example.org');
  });
});

describe('parseIssue diagnostics', () => {
  it('reports a broken date as a warning with its line and falls back to the date part', () => {
    const issue = parseIssue('---\nlayout: post\ntitle: T\ndate: 2024-04-17 14:4g5:00 -0000\nslug: s\n---\n\nHi\n', 'x.md');
    expect(issue.diagnostics).toEqual([expect.objectContaining({ severity: 'warning', line: 4 })]);
    expect(issue.date).toBe('2024-04-17T00:00:00.000Z');
  });

  it('reports a missing front matter and a missing title as errors', () => {
    expect(parseIssue('# Just markdown\n', 'a.md').diagnostics[0]).toMatchObject({ severity: 'error', line: 1, message: expect.stringMatching(/no front matter/) });
    expect(parseIssue('---\nslug: x\n---\nbody\n', 'b.md').diagnostics[0]).toMatchObject({ severity: 'error', message: 'missing title in front matter' });
  });

  it('reports empty links, images without alt and unresolvable root-relative links with lines', () => {
    const src = '---\ntitle: T\n---\n\nA [dead]() link\nand ![](https://x.example/a.png) and [rel](/foo)\n';
    const d = parseIssue(src, 'c.md').diagnostics;
    expect(d).toEqual([
      expect.objectContaining({ line: 5, message: 'empty link [dead]()' }),
      expect.objectContaining({ line: 6, message: expect.stringMatching(/image without alt/) }),
      expect.objectContaining({ line: 6, message: expect.stringMatching(/needs SITE_URL/) }),
    ]);
    expect(parseIssue(src, 'c.md', { siteUrl: 'https://s.example' }).links.find((l) => l.href === '/foo')?.url).toBe('https://s.example/foo');
  });

  it('treats setext headings as sections (older issues)', () => {
    const issue = parseIssue('---\ntitle: T\n---\n\nIntro\n\nFeature Work\n------------\n\nText\n', 'd.md');
    expect(issue.sections.map((s) => [s.title, s.line])).toEqual([[null, 5], ['Feature Work', 7]]);
  });

  it('keeps raw HTML out: <script> in the body is text, not a tag', () => {
    const issue = parseIssue('---\ntitle: T\n---\n\n<script>alert(1)</script>\n', 'e.md');
    expect(issue.links).toEqual([]);
  });
});

describe('parseIssueFile bad input', () => {
  it('names an unreadable file', () => {
    expect(() => parseIssueFile(join(dir, 'missing.md'))).toThrow(/missing\.md: cannot read file \(ENOENT\)/);
    const p = write('locked.md', '---\ntitle: x\n---\n');
    chmodSync(p, 0o000);
    if (process.getuid?.() !== 0) expect(() => parseIssueFile(p)).toThrow(/locked\.md: cannot read file/);
  });

  it('refuses invalid UTF-8 with the line of the bad byte', () => {
    const p = write('latin1.md', Buffer.concat([Buffer.from('---\ntitle: x\n---\n\ncaf'), Buffer.from([0xe9, 0x0a])]));
    const err = (() => {
      try {
        parseIssueFile(p);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/latin1\.md:5: invalid UTF-8/);
  });

  it('refuses a 5 MB file before reading it', () => {
    const p = write('huge.md', Buffer.alloc(5 * 1024 * 1024, 'a'));
    expect(() => parseIssueFile(p)).toThrow(/huge\.md: file is 5\.0 MB/);
    expect(() => parseIssue('a'.repeat(MAX_ISSUE_BYTES + 1), 'big.md')).toThrow(InputError);
  });

  it('reports a directory as unreadable', () => {
    expect(() => parseIssueFile(dir)).toThrow(InputError);
  });
});

describe('parseJekyllDate', () => {
  it.each([
    ['2024-03-15 03:53:00 -0000', '2024-03-15T03:53:00.000Z'],
    ['2024-03-15 03:53:00 +0200', '2024-03-15T01:53:00.000Z'],
    ['2024-03-15', '2024-03-15T00:00:00.000Z'],
    ['2024-02-31', null],
    ['2024-04-17 14:4g5:00 -0000', null],
    ['next tuesday', null],
  ])('%s → %s', (input, expected) => {
    expect(parseJekyllDate(input)).toBe(expected);
  });
});
