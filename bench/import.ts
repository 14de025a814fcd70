/**
 * CSV import benchmark: generate an N-row CSV on the fly into a temp file, import it into
 * a fresh SQLite store, report time and peak RSS. Each size runs in its own process so
 * the peak RSS of one does not hide the other; comparing 20k with 100k rows shows whether
 * memory stays flat as the file grows (streamed, not slurped).
 *
 *   npx tsx bench/import.ts            # 20,000, 100,000 and 300,000 rows
 *   npx tsx bench/import.ts 50000      # other sizes
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../src/store/db.js';
import { openRepositories } from '../src/store/repositories.js';
import { importSubscribersCsv } from '../src/subscribers/csv-import.js';

interface Result {
  rows: number;
  fileMB: number;
  seconds: number;
  /** CPU time of this process during the import (user + system): less sensitive to a busy machine. */
  cpuSeconds: number;
  rowsPerSecond: number;
  peakRssMB: number;
  imported: number;
  errors: number;
}

async function writeCsv(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  out.write('email,name,city,plan,signed_up\r\n');
  const cities = ['Berlin', 'Lisbon', 'Osaka', 'Quito', 'Nairobi', 'Toronto'];
  for (let i = 0; i < rows; i++) {
    // One row in 1,000 is bad (invalid address) so the error path is exercised too.
    const email = i % 1000 === 999 ? `broken-${i}-at-example.com` : `User.${i}@Example${i % 97}.com`;
    const line = `${email},"Reader ${i}",${cities[i % cities.length]},${i % 5 === 0 ? 'pro' : 'free'},2024-0${(i % 9) + 1}-1${i % 10}\r\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function child(rows: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-import-'));
  try {
    const csvPath = join(dir, 'subscribers.csv');
    await writeCsv(csvPath, rows);
    const store = await openStore(`sqlite:${join(dir, 'bench.db')}`);
    const repos = openRepositories(store);
    const list = await repos.lists.ensureList('default');
    const cpu = process.cpuUsage();
    const started = performance.now();
    const report = await importSubscribersCsv(repos.subscriberImport, createReadStream(csvPath), { listId: list.id });
    const seconds = (performance.now() - started) / 1000;
    const cpuUsed = process.cpuUsage(cpu);
    await store.destroy();
    return {
      rows,
      fileMB: round(statSync(csvPath).size / 1e6),
      seconds: round(seconds),
      cpuSeconds: round((cpuUsed.user + cpuUsed.system) / 1e6),
      rowsPerSecond: Math.round(rows / seconds),
      peakRssMB: round(process.resourceUsage().maxRSS / 1024),
      imported: report.imported,
      errors: report.bad,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

if (process.argv[2] === '--child') {
  console.log(JSON.stringify(await child(Number(process.argv[3]))));
} else {
  const sizes = process.argv.slice(2).map(Number);
  const self = fileURLToPath(import.meta.url);
  const results: Result[] = [];
  for (const rows of sizes.length ? sizes : [20_000, 100_000, 300_000]) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', String(rows)], { encoding: 'utf8' });
    results.push(JSON.parse(out.trim().split('\n').at(-1)!) as Result);
  }
  console.log('| rows | file MB | import s (wall) | import s (CPU) | rows/s (wall) | peak RSS MB | imported | bad rows |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(`| ${r.rows} | ${r.fileMB} | ${r.seconds} | ${r.cpuSeconds} | ${r.rowsPerSecond} | ${r.peakRssMB} | ${r.imported} | ${r.errors} |`);
  }
  // Goal: 100,000 rows in under 10 s, i.e. at least 10,000 rows/s at every size.
  const slow = results.filter((r) => r.rows >= 100_000 && r.rowsPerSecond < 10_000);
  if (slow.length) {
    console.error('goal missed: import must sustain 10,000 rows/s (100,000 rows in under 10 s)');
    process.exitCode = 1;
  }
}
