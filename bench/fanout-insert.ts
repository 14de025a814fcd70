/**
 * Fan-out insert bench (issue #15): the CPU and time DeliveryLedger.insertQueued takes per
 * recipient, the ledger write the fan-out makes once per subscriber of a campaign, on each
 * backend (SQLite file; PostgreSQL on TEST_POSTGRES_URL, skipped with a notice when it does not
 * answer). Each round inserts the same N recipients as one fan-out would (pages of 1,000) into
 * a new campaign; the first round is a warm-up and is not counted. CPU is this process's
 * (process.cpuUsage): on SQLite that is the whole insert, triggers included; on PostgreSQL only
 * the client's share.
 *
 *   npx tsx bench/fanout-insert.ts [--subscribers 5000] [--rounds 6] [--backend sqlite|postgres|both]
 *
 * Prints a Markdown table; writes nothing.
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { openStore, type DialectName, type Store } from '../src/store/db.js';
import { DeliveryLedger } from '../src/store/delivery-ledger.js';
import { createTestDatabase } from '../test/support/store.js';

const { values } = parseArgs({
  options: { subscribers: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '6' }, backend: { type: 'string', default: 'both' } },
});
const N = Number(values.subscribers);
const ROUNDS = Number(values.rounds);
const PAGE = 1000;
const BATCH = 20;

async function seed(store: Store, now: number): Promise<{ listId: number; recipients: { subscriberId: number; email: string; sendBatch: number }[] }> {
  const list = await store.db.insertInto('lists').values({ name: 'bench', created_at: now }).returning('id').executeTakeFirstOrThrow();
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
  return { listId: Number(list.id), recipients };
}

async function bench(dialect: DialectName): Promise<string | undefined> {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  try {
    database = await createTestDatabase(dialect);
  } catch (err) {
    console.error(`${dialect}: skipped (${(err as Error).message})`);
    return undefined;
  }
  const store = await openStore(database.url);
  try {
    const now = Date.now();
    const { listId, recipients } = await seed(store, now);
    const ledger = new DeliveryLedger(store.db);
    const cpuUs: number[] = [];
    const wallMs: number[] = [];
    for (let round = 0; round <= ROUNDS; round++) {
      const campaign = await store.db
        .insertInto('campaigns')
        .values({ list_id: listId, subject: 'Bench', issue_title: 'Bench', issue_slug: 'bench', compiled_json: '{}', source_markdown: '', status: 'sending', created_at: now, updated_at: now } as never)
        .returning('id')
        .executeTakeFirstOrThrow();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < N; i += PAGE) await ledger.insertQueued(Number(campaign.id), recipients.slice(i, i + PAGE), now);
      const t = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      if (round === 0) continue;
      cpuUs.push(((cpu.user + cpu.system) / N));
      wallMs.push(t);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    return `| ${dialect} | ${N} | ${ROUNDS} | ${median(cpuUs).toFixed(1)} (${Math.min(...cpuUs).toFixed(1)}–${Math.max(...cpuUs).toFixed(1)}) | ${(median(wallMs) * 1000 / N).toFixed(1)} |`;
  } finally {
    await store.destroy();
    await database.remove();
  }
}

console.log(`# Fan-out insert\n\nMeasured ${new Date().toISOString()} on ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}. Load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')}.`);
console.log(`Command: \`npx tsx bench/fanout-insert.ts ${process.argv.slice(2).join(' ')}\`.\n`);
console.log('| backend | recipients | rounds | CPU µs per recipient, median (min–max) | wall µs per recipient, median |');
console.log('|---|---|---|---|---|');
const dialects: DialectName[] = values.backend === 'both' ? ['sqlite', 'postgres'] : [values.backend as DialectName];
for (const d of dialects) {
  const row = await bench(d);
  if (row) console.log(row);
}
