/**
 * Ledger write bench (issue #15): the CPU and time per recipient of the three writes the send
 * path makes to `deliveries` for every recipient of a campaign, on each backend (SQLite file;
 * PostgreSQL on TEST_POSTGRES_URL, skipped with a notice when it does not answer):
 *   - fan-out:  DeliveryLedger.insertQueued, pages of 1,000 (workers/fanout-processor.ts);
 *   - claim:    DeliveryLedger.claimMany, 20 rows a statement (a claim batch, workers/claim-batcher.ts);
 *   - sent:     DeliveryLedger.markSentMany, 20 rows a statement (workers/sent-writer.ts).
 * Each round writes N recipients of a new campaign through all three; the first round is a
 * warm-up and is not counted. CPU is this process's (process.cpuUsage): on SQLite that is the
 * whole statement, triggers included; on PostgreSQL only the client's share (wall time shows the
 * rest). `--schema-upto NAME` stops the migrations at NAME, to measure an earlier schema (its
 * triggers) with the same code.
 *
 *   npx tsx bench/ledger-writes.ts [--subscribers 5000] [--rounds 6] [--backend sqlite|postgres|both] [--schema-upto NAME] [--no-write]
 *
 * Prints a Markdown table and writes it to bench/results/ledger-writes.md (not with --no-write).
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { openStore, type DialectName, type Store } from '../src/store/db.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { DeliveryLedger } from '../src/store/delivery-ledger.js';
import { createTestDatabase } from '../test/support/store.js';
import { seedCampaign, seedList } from '../test/support/seed.js';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '6' },
    backend: { type: 'string', default: 'both' },
    'schema-upto': { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
});
const N = Number(values.subscribers);
const ROUNDS = Number(values.rounds);
const PAGE = 1000;
const BATCH = 20;
const WRITES = ['fan-out', 'claim', 'sent'] as const;
type Write = (typeof WRITES)[number];

async function seed(store: Store, now: number): Promise<{ listId: number; recipients: { subscriberId: number; email: string; sendBatch: number }[] }> {
  const listId = await seedList(store.db, 'bench');
  const subscribers: { id: number; email: string }[] = [];
  for (let i = 0; i < N; i += 1000) {
    const rows = Array.from({ length: Math.min(1000, N - i) }, (_, k) => ({
      email: `reader${i + k + 1}@example.com`, name: `Reader ${i + k + 1}`, status: 'active' as const, attributes: '{}', status_reason: null, created_at: now, updated_at: now,
    }));
    const ids = await store.db.insertInto('subscribers').values(rows).returning(['id', 'email']).execute();
    subscribers.push(...ids.map((r) => ({ id: Number(r.id), email: r.email })));
  }
  // As the fan-out forms them: each row records its batch's first subscriber id.
  const recipients = subscribers.map((s, i) => ({ subscriberId: s.id, email: s.email, sendBatch: subscribers[i - (i % BATCH)]!.id }));
  return { listId, recipients };
}

/** CPU µs and wall µs per recipient of `write`. */
async function measure(write: () => Promise<unknown>): Promise<{ cpu: number; wall: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await write();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { cpu: (cpu.user + cpu.system) / N, wall: (wall * 1000) / N };
}

async function bench(dialect: DialectName): Promise<string[]> {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  try {
    database = await createTestDatabase(dialect);
  } catch (err) {
    console.error(`${dialect}: skipped (${(err as Error).message})`);
    return [];
  }
  const store = await openStore(database.url, { migrate: false });
  try {
    await migrateToLatest(store.db, dialect, values['schema-upto'] ? { upTo: values['schema-upto'] } : {});
    const now = Date.now();
    const { listId, recipients } = await seed(store, now);
    const ledger = new DeliveryLedger(store.db);
    const results: Record<Write, { cpu: number; wall: number }[]> = { 'fan-out': [], claim: [], sent: [] };
    for (let round = 0; round <= ROUNDS; round++) {
      const id = await seedCampaign(store.db, listId);
      const fanout = await measure(async () => {
        for (let i = 0; i < N; i += PAGE) await ledger.insertQueued(id, recipients.slice(i, i + PAGE), now);
      });
      const attempts = new Map<number, number>();
      const claim = await measure(async () => {
        for (let i = 0; i < N; i += BATCH) {
          const claimed = await ledger.claimMany(id, recipients.slice(i, i + BATCH).map((r) => r.subscriberId), 'bench', now + 1);
          for (const c of claimed.values()) attempts.set(c.subscriberId, c.token.attempt);
        }
      });
      const sent = await measure(async () => {
        for (let i = 0; i < N; i += BATCH) {
          const rows = recipients.slice(i, i + BATCH).map((r) => ({ campaignId: id, subscriberId: r.subscriberId, workerId: 'bench', attempt: attempts.get(r.subscriberId)!, sesMessageId: `m-${r.subscriberId}`, now: now + 2 }));
          await ledger.markSentMany(rows);
        }
      });
      if (round === 0) continue;
      results['fan-out'].push(fanout);
      results.claim.push(claim);
      results.sent.push(sent);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    return WRITES.map((w) => {
      const cpu = results[w].map((r) => r.cpu);
      return `| ${dialect} | ${w} | ${median(cpu).toFixed(1)} (${Math.min(...cpu).toFixed(1)}–${Math.max(...cpu).toFixed(1)}) | ${median(results[w].map((r) => r.wall)).toFixed(1)} |`;
    });
  } finally {
    await store.destroy();
    await database.remove();
  }
}

const out: string[] = [];
const say = (line: string) => {
  console.log(line);
  out.push(line);
};
say(`# Ledger writes per recipient\n\nMeasured ${new Date().toISOString()} on ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}. Load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')}.`);
say(`Command: \`npx tsx bench/ledger-writes.ts ${process.argv.slice(2).join(' ')}\`. ${N} recipients, ${ROUNDS} rounds after a warm-up; schema ${values['schema-upto'] ? `up to ${values['schema-upto']}` : 'latest'}.\n`);
say('| backend | write | CPU µs per recipient, median (min–max) | wall µs per recipient, median |');
say('|---|---|---|---|');
const dialects: DialectName[] = values.backend === 'both' ? ['sqlite', 'postgres'] : [values.backend as DialectName];
for (const d of dialects) for (const row of await bench(d)) say(row);
if (!values['no-write']) writeFileSync(new URL('./results/ledger-writes.md', import.meta.url), `${out.join('\n')}\n`);
