/**
 * Issue 17 (bad CSVs): `subscribers import` of a 200 MB file whose every row is bad keeps its
 * memory flat. It used to keep every row error until the end (1.15 GB peak); now it keeps
 * counts and the first errors, and prints every error to stderr as it is found. Measured
 * as the importing process's own peak RSS (printed by a preload at its exit).
 *
 * The child runs with a V8 old-space budget of 128 MB and 8 MB semi-spaces. Without a budget, V8 on Node 24 (on a
 * machine with 24 GB) lets a 70 MB live set grow to ~350 MB of garbage between full GCs and
 * keeps ~200 MB of freed pages pooled, so an unbounded run peaks near 500 MB RSS whatever
 * the code retains: that measures V8's heuristics, not the import. With the budget, the old
 * code (every error kept) dies of heap exhaustion, and the new one completes under 300 MB.
 * The young generation is bounded too: with Node 24's default semi-spaces the same import
 * peaked at 300–320 MB RSS (quiet machine and CI alike), 215–218 MB with 8 MB ones — the
 * difference is short-lived garbage per parsed row, not anything the import keeps.
 * Operators who want that bound set `NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=8"` (README).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const PEAK_RSS = join(ROOT, 'test', 'support', 'report-peak-rss.mjs');
const SIZE = 200 * 1024 * 1024;
const LIMIT_KB = 300 * 1024;

const dir = mkdtempSync(join(tmpdir(), 'import-memory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A CSV with a valid header and `SIZE` bytes of rows that all fail (no address in them); returns the row count. */
async function writeJunk(path: string): Promise<number> {
  const out = createWriteStream(path);
  out.write('email,name\n');
  let bytes = 0;
  let rows = 0;
  while (bytes < SIZE) {
    const block: string[] = [];
    for (let k = 0; k < 10_000; k++, rows++) block.push(`junk-${String(rows).padStart(9, '0')}-no-at-sign,Someone\n`);
    const text = block.join('');
    bytes += text.length;
    if (!out.write(text)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return rows;
}

describe('subscribers import of 200 MB of bad rows', () => {
  it('reports every bad row on stderr with a flat memory: peak RSS under 300 MB', async () => {
    const file = join(dir, 'junk.csv');
    const rows = await writeJunk(file);
    expect(statSync(file).size).toBeGreaterThanOrEqual(SIZE);

    const child = spawn(process.execPath, ['--max-old-space-size=128', '--max-semi-space-size=8', '--import', 'tsx', '--import', PEAK_RSS, 'src/cli/main.ts', 'subscribers', 'import', file, '--list', 'junk'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    // Count stderr's error lines without keeping them (hundreds of MB); keep the first few.
    // Read slowly on purpose at first: a slow reader must slow the import down, not fill its memory.
    let errorLines = 0;
    let head = '';
    child.stderr.pause();
    setTimeout(() => child.stderr.resume(), 3000);
    const ending = 'no-at-sign" is not an email address\n';
    let carry = '';
    child.stderr.on('data', (d: Buffer) => {
      if (head.length < 1000) head += d.toString().slice(0, 1000);
      // A line may straddle two chunks: look again at the end of the previous one.
      const text = carry + d.toString('latin1');
      for (let i = text.indexOf(ending); i >= 0; i = text.indexOf(ending, i + 1)) errorLines++;
      carry = text.slice(-(ending.length - 1));
    });
    const [code] = (await once(child, 'exit')) as [number | null];

    const peakKb = Number(/peak-rss-kb=(\d+)/.exec(stdout)?.[1]);
    expect(peakKb, stdout).toBeGreaterThan(0);
    expect(peakKb, `peak RSS ${Math.round(peakKb / 1024)} MB`).toBeLessThan(LIMIT_KB);
    expect(code, head).toBe(1);
    expect(head.split('\n').slice(0, 2)).toEqual([`${file}:2: "junk-000000000-no-at-sign" is not an email address`, `${file}:3: "junk-000000001-no-at-sign" is not an email address`]);
    expect(errorLines).toBe(rows);
    expect(stdout).toContain(`${file}: ${rows} rows: 0 imported, 0 updated, ${rows} skipped (${rows} bad, 0 suppressed) into list junk`);
  }, 600_000);
});
