/**
 * Compiler benchmark: compile time of the median-size and the largest corpus issue (warm),
 * and personalize+MIME throughput on one core (prepareMessages().build), with nodemailer's
 * MailComposer on the same content as the baseline. Writes bench/results/compiler.md.
 *
 *   npx tsx bench/compile.ts            (CORPUS_DIR overrides the corpus location)
 */
import { statSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { cpus } from 'node:os';
import Handlebars from 'handlebars';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { parseIssueFile } from '../src/issue/parse-issue.js';
import { clearMjmlCache, compileIssue } from '../src/render/compile-issue.js';
import { prepareMessages } from '../src/render/prepare-messages.js';
import { TEMPLATE_CONSTANTS } from '../src/render/template-text.js';
import { corpusFiles } from '../test/support/corpus.js';
import { EXAMPLE_ISSUE } from '../test/support/example-issue.js';

const SITE_URL = 'https://lwkd.info';
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const files = corpusFiles();
const bySize = (files.length ? files : [EXAMPLE_ISSUE]).map((f) => ({ f, size: statSync(f).size })).sort((a, b) => a.size - b.size);
const picks = [
  { label: 'median', ...(bySize[Math.floor(bySize.length / 2)] as { f: string; size: number }) },
  { label: 'largest', ...(bySize[bySize.length - 1] as { f: string; size: number }) },
];

const options = { listName: 'LWKD', postalAddress: 'LWKD, 1 Example Way, Example City' };
const rows: string[] = [];
for (const pick of picks) {
  const issue = parseIssueFile(pick.f, { siteUrl: SITE_URL });
  for (let i = 0; i < 10; i++) await compileIssue(issue, options); // warm up JIT and caches
  const warm: number[] = [];
  const uncached: number[] = [];
  for (let i = 0; i < 30; i++) {
    let t = performance.now();
    await compileIssue(issue, options);
    warm.push(performance.now() - t);
    clearMjmlCache();
    t = performance.now();
    await compileIssue(issue, options);
    uncached.push(performance.now() - t);
  }
  rows.push(`| ${pick.label} | ${basename(pick.f)} | ${(pick.size / 1024).toFixed(1)} KB | ${median(warm).toFixed(1)} ms | ${median(uncached).toFixed(1)} ms |`);
}

// Personalize + MIME on the largest issue.
const largest = picks[1] as { f: string };
const compiled = JSON.parse(JSON.stringify(await compileIssue(parseIssueFile(largest.f, { siteUrl: SITE_URL }), options)));
const factory = prepareMessages(compiled, {
  from: 'LWKD <lwkd@example.org>',
  campaignId: 1,
  listId: 'LWKD <default.lwkd.example.org>',
  unsubscribeMailto: 'unsubscribe@example.org',
  archiveUrl: 'https://lwkd.info/archive/issue',
});
const recipient = (i: number) => ({ subscriberId: i, email: `reader${i}@example.com`, name: `Reader Zoë ${i}`, unsubscribeUrl: `https://news.example.org/u/${'t'.repeat(100)}${i}` });
for (let i = 0; i < 3000; i++) factory.build(recipient(i));
const N = 30000;
let bytes = 0;
let t = performance.now();
for (let i = 0; i < N; i++) bytes += factory.build(recipient(i)).raw.length;
const buildSeconds = (performance.now() - t) / 1000;
const perSecond = N / buildSeconds;

// Baseline: precompiled Handlebars render + MailComposer per recipient, same content.
const M = 1000;
const htmlT = Handlebars.compile(compiled.htmlTemplate);
const textT = Handlebars.compile(compiled.textTemplate, { noEscape: true });
const composed = async (i: number): Promise<Buffer> => {
  const data = { ...TEMPLATE_CONSTANTS, archiveUrl: 'https://lwkd.info/archive/issue', ...recipient(i) };
  return new MailComposer({ from: 'LWKD <lwkd@example.org>', to: { name: `Reader Zoë ${i}`, address: `reader${i}@example.com` }, subject: compiled.meta.title, text: textT(data), html: htmlT(data) })
    .compile()
    .build();
};
for (let i = 0; i < 100; i++) await composed(i);
t = performance.now();
for (let i = 0; i < M; i++) await composed(i);
const composerPerSecond = M / ((performance.now() - t) / 1000);

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const report = `# Compiler benchmark

Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpu} (${cpus().length} cores shared with other jobs; numbers are single-threaded),
Node ${process.version}, with \`npx tsx bench/compile.ts\` over ${files.length || 1} issue(s)${files.length ? ' of the LWKD corpus' : ' (example only: corpus absent)'}.

## Compile (parse excluded; Markdown → juice → MJML strict → Handlebars sources), median of 30 warm runs

Goal: under 50 ms warm.

| issue | file | size | warm | warm, MJML layout cache cleared |
|---|---|---|---|---|
${rows.join('\n')}

The MJML layout cache holds the compiled skeleton (sections are slots), so a warm compile of
an issue with the same number of sections skips MJML entirely; the last column pays for it.

## Personalize + MIME, one core

| path | messages/s | avg message |
|---|---|---|
| \`prepareMessages(...).build(recipient)\` (QP parts prepared once per issue) | ${Math.round(perSecond).toLocaleString('en-US')} | ${(bytes / N / 1024).toFixed(1)} KB |
| precompiled Handlebars render + nodemailer MailComposer per recipient (baseline) | ${Math.round(composerPerSecond).toLocaleString('en-US')} | |

Goal: at least 2,000 messages/s per core. Largest corpus issue, ${N.toLocaleString('en-US')} recipients
with non-ASCII names and 100+ character unsubscribe URLs.

## Notes for the README (issue format and compiler behaviour)

- Issues are Jekyll Markdown: front matter (\`title\` required; \`date\`, \`slug\` optional; blank lines and
  unreadable dates are tolerated with a warning naming the line), \`##\` or setext headings start sections.
- A web-only header is cut from the email when wrapped in \`<!-- web-only -->\` … \`<!-- /web-only -->\`
  lines; other whole-line HTML comments are dropped. Raw HTML is shown as text (markdown-it CommonMark, \`html: false\`).
- Root-relative links and images resolve against \`SITE_URL\`. \`[text]()\` stays plain text in the email
  and is an error for \`check\`, as are non-absolute links, images without alt text, HTML over 102 KB.
- Editor text is never Handlebars: \`{\`, \`}\` and \`\\\` are stored as \`{{lb}}\`, \`{{rb}}\`, \`{{bs}}\`.
- Per-recipient fields: \`{{name}}\`, \`{{email}}\`, \`{{unsubscribeUrl}}\` (and \`{{archiveUrl}}\`, fixed per campaign).
  \`SUBJECT_TEMPLATE\` may use front-matter keys and \`{{name}}\`/\`{{email}}\`.
- Messages are assembled directly (quoted-printable parts prepared once per issue); mailparser reads them
  back identically to MailComposer output (see src/render/prepare-messages.test.ts).
`;
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(join(import.meta.dirname, 'results/compiler.md'), report);
console.log(report);
