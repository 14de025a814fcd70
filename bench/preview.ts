/**
 * Workspace preview round trip: in Chromium, as an editor on /admin/campaigns/new with the
 * largest corpus issue pasted, change one word in the textarea and time until both preview
 * iframes (600 and 375 px) have loaded the new document. The page measures it itself
 * (`data-preview-ms`: from the edit, through its 80 ms debounce, the POST to
 * /admin/workspace/preview — check's diagnostics, compile, the reader's copy — to both
 * iframes' load events). Also the server part alone (the POST, no browser).
 *
 *   tsx bench/preview.ts [--runs 40]
 *
 * Writes bench/results/preview.md. Goal: p50 < 300 ms (issue 13: "within a second").
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { launchChromium } from '../test/support/chromium.js';
import { corpusFiles } from '../test/support/corpus.js';
import { createSurfaceHarness } from '../test/support/surface-harness.js';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 40;
const loadAtStartText = loadavg().map((x) => x.toFixed(1)).join(' / ');

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const files = corpusFiles();
if (files.length === 0) {
  console.error('bench/preview: the corpus is absent (CORPUS_DIR); nothing to measure');
  process.exit(2);
}
const largest = files.map((f) => ({ f, size: statSync(f).size })).sort((a, b) => b.size - a.size)[0]!;
const markdown = readFileSync(largest.f, 'utf8');
// A word of the body to change on every run (so each edit is a real change).
const marker = markdown.indexOf('\n## ') + 1;

const h = await createSurfaceHarness();
const browser = await launchChromium();
try {
  const editor = (await h.ctx.tokens.create('editor', 'bench editor')).token;
  const added = await h.api('POST', '/api/subscribers', { token: h.tokens.admin, body: { email: 'reader@example.com', list: 'default' } });
  if (added.status !== 201) throw new Error(`subscriber: ${added.status} ${added.text}`);
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  await page.goto(`${h.base}/admin/login`);
  await page.fill('input[name="token"]', editor);
  await page.click('button[type="submit"]');
  await page.waitForURL(`${h.base}/admin`);
  page.on('pageerror', (e) => console.error('page error:', e.message));
  page.on('console', (m) => console.error('page console:', m.text()));
  await page.goto(`${h.base}/admin/campaigns/new`);
  await page.waitForSelector('[data-preview-rev]', { state: 'attached', timeout: 60_000 }).catch(async (err: Error) => {
    throw new Error(`${err.message}; preflight says: ${await page.textContent('[data-preflight-summary]')}`);
  });

  const edit = async (i: number): Promise<number> => {
    const before = Number((await page.getAttribute('body', 'data-preview-rev')) ?? '0');
    const text = `${markdown.slice(0, marker)}Edit ${i} here.\n\n${markdown.slice(marker)}`;
    await page.$eval(
      'textarea[name="markdown"]',
      (t, value) => {
        (t as HTMLTextAreaElement).value = value;
        t.dispatchEvent(new Event('input', { bubbles: true }));
      },
      text,
    );
    await page.waitForFunction((rev) => Number(document.body.getAttribute('data-preview-rev') ?? '0') > rev, before, { timeout: 30_000 });
    return Number(await page.getAttribute('body', 'data-preview-ms'));
  };
  for (let i = 0; i < 5; i++) await edit(i); // warm-up: JIT, MJML's layout cache
  const roundTrips: number[] = [];
  for (let i = 0; i < RUNS; i++) roundTrips.push(await edit(1000 + i));

  // The server's part alone: the preview POST as the page sends it.
  const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  const csrf = (await page.getAttribute('body', 'data-csrf'))!;
  const server: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const body = JSON.stringify({ markdown: `${markdown.slice(0, marker)}Server ${i}.\n\n${markdown.slice(marker)}`, list: 'default', subject: '', as: '', slot: 'bench-server-slot-0001' });
    const t = performance.now();
    const res = await fetch(`${h.base}/admin/workspace/preview`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', 'x-csrf-token': csrf, origin: h.base }, body });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`preview POST ${res.status}`);
    server.push(performance.now() - t);
  }
  await context.close();

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const loadAtStart = loadAtStartText;
  const load = loadavg().map((x) => x.toFixed(1)).join(' / ');
  const row = (label: string, xs: number[]) => `| ${label} | ${xs.length} | ${pct(xs, 50).toFixed(0)} | ${pct(xs, 95).toFixed(0)} | ${Math.max(...xs).toFixed(0)} |`;
  const name = largest.f.split('/').at(-1)!;
  const report = `# Workspace preview round trip

Measured ${new Date().toISOString().slice(0, 10)} with \`tsx bench/preview.ts --runs ${RUNS}\` on ${cpus().length} × ${cpu}
(load average ${loadAtStart} at the start, ${load} at the end: the bench's own browser and server count in it).
Largest corpus issue: \`${name}\` (${(largest.size / 1024).toFixed(1)} KB of Markdown). Chromium (Debian), SQLite, local Redis.

| measure | runs | p50 ms | p95 ms | max ms |
|---|---|---|---|---|
${row('edit → both preview iframes (600, 375 px) loaded, in the browser (incl. 80 ms debounce)', roundTrips)}
${row('POST /admin/workspace/preview alone (check + compile + reader copy + store)', server)}

Goal (issue 13): p50 < 300 ms for the round trip.
`;
  writeFileSync(join(import.meta.dirname, 'results', 'preview.md'), report);
  console.log(report);
  console.log(`README row: | workspace preview round trip, largest LWKD issue (edit → both iframes, p50 / p95) | ${pct(roundTrips, 50).toFixed(0)} ms / ${pct(roundTrips, 95).toFixed(0)} ms on ${cpu} | < 300 ms | [preview](bench/results/preview.md) |`);
} finally {
  await browser.close();
  await h.close();
}
