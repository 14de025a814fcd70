/**
 * Retention (LEDGER_RETENTION_DAYS, `store prune`), issue 16, on both backends: pruning a
 * finished campaign keeps its stats, chart, clicks per link, recent problems and every
 * suppression identical, removes its ledger rows and its other events in bounded batches,
 * never touches a campaign that is sending, paused, scheduled or finished recently, keeps
 * events inside the SNS replay window, and `store prune --dry-run` says what it would remove.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config.js';
import { openSendContext, type SendContext } from '../../src/campaigns/send-context.js';
import { LedgerRetention, retentionCutoffs } from '../../src/campaigns/ledger-retention.js';
import { DashboardQueries } from '../../src/http/admin/dashboard-queries.js';
import { openRepositories } from '../../src/store/repositories.js';
import { BACKENDS, createTestStore, type TestStore } from '../support/store.js';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { FIXTURE_LINKS, seedFinishedCampaign } from '../support/finished-campaign.js';
import { seedList } from '../support/seed.js';
import { ROOT, runTs } from '../support/pipeline.js';
import { join } from 'node:path';

const DAY = 86_400_000;
/** The chart of a campaign still going ends at `now`: one fixed instant for before/after comparisons. */
const seriesNow = Date.now();

describe.each(BACKENDS)('ledger retention on %s', (dialect) => {
  let store: TestStore | undefined;
  let ctx: SendContext | undefined;
  let prefix: string | undefined;
  afterEach(async () => {
    await ctx?.close();
    await store?.drop();
    if (prefix) await deletePrefix(prefix, TEST_REDIS_URL).catch(() => undefined);
    ctx = undefined;
    store = undefined;
    prefix = undefined;
  });

  async function snapshotOf(id: number) {
    const c = (await ctx!.campaigns.get(id))!;
    const q = new DashboardQueries(store!);
    const { rate_per_s, eta, ...stats } = await ctx!.orchestrator.stats(id);
    return {
      // A campaign still going: its rate and ETA move with the clock.
      stats: c.finished_at === null ? stats : { ...stats, rate_per_s, eta },
      series: await q.series(id, c.started_at, c.finished_at, seriesNow),
      links: await q.topLinks(id),
      // Clicks per link by class (issue 14), the dashboard's link table.
      linkEngagement: await q.linkEngagement(id),
      problems: await q.recentProblems(id),
    };
  }
  const rowsOf = async (table: 'deliveries' | 'events', id: number) =>
    Number((await store!.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', id).executeTakeFirstOrThrow()).n);
  const allSuppressions = () => store!.db.selectFrom('suppressions').selectAll().orderBy('email').execute();

  it('keeps stats, chart, clicks per link and suppressions; removes only old finished campaigns\' rows, in batches', async () => {
    store = await createTestStore(dialect);
    prefix = uniquePrefix('retention');
    const config = loadConfig({ DATABASE_URL: store.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix });
    ctx = await openSendContext(config, { store });
    const db = store.db;
    const listId = await seedList(db, 'default');
    const now = Date.now();
    const old = await seedFinishedCampaign(db, { listId, n: 2345, finishedAt: now - 40 * DAY, prefix: 'old' });
    const oldCancelled = await seedFinishedCampaign(db, { listId, n: 300, finishedAt: now - 35 * DAY, prefix: 'cx', status: 'cancelled' });
    const recent = await seedFinishedCampaign(db, { listId, n: 200, finishedAt: now - 2 * DAY, prefix: 'recent' });
    // Started long ago and still going (or held): never candidates, whatever their timestamps say.
    const sending = await seedFinishedCampaign(db, { listId, n: 250, finishedAt: now - 60 * DAY, prefix: 'live', status: 'sending' });
    const paused = await seedFinishedCampaign(db, { listId, n: 150, finishedAt: now - 60 * DAY, prefix: 'held', status: 'paused' });
    const untouched = [recent, sending, paused];
    const before = new Map<number, Awaited<ReturnType<typeof snapshotOf>>>();
    for (const id of [old, oldCancelled, ...untouched]) before.set(id, await snapshotOf(id));
    // The figures compared below are not empty: people, machines and unknowns opened and clicked.
    const seen = before.get(old)!;
    expect(seen.stats).toMatchObject({ opened_human: expect.any(Number), opened_machine: expect.any(Number), clicked_human: expect.any(Number) });
    expect(Math.min(seen.stats.opened_human, seen.stats.opened_machine, seen.stats.opened_unknown, seen.stats.clicked_human)).toBeGreaterThan(0);
    expect(seen.linkEngagement.some((l) => l.human > 0 && l.machine > 0)).toBe(true);
    const rowsBefore = new Map<number, [number, number]>();
    for (const id of untouched) rowsBefore.set(id, [await rowsOf('deliveries', id), await rowsOf('events', id)]);
    const suppressionsBefore = await allSuppressions();
    expect(suppressionsBefore.length).toBeGreaterThan(50);
    expect(before.get(old)!.links.map((l) => l.url).sort()).toEqual(FIXTURE_LINKS);
    expect(before.get(old)!.stats.opened).toBeGreaterThan(0);

    const repos = openRepositories(store);
    const retention = new LedgerRetention(repos.retention, { retentionDays: 30, snsMaxAgeS: 3900, uncertainAfterMs: 30_000, batchSize: 500, pauseMs: 1 });

    // Dry run: says per campaign what would go; deletes nothing.
    const plan = await retention.plan();
    expect(plan.map((p) => p.id)).toEqual([old, oldCancelled]);
    const oldEvents = await rowsOf('events', old);
    const oldKept = Number((await db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', old).where('type', 'in', ['bounce', 'complaint']).executeTakeFirstOrThrow()).n);
    expect(plan[0]).toMatchObject({ ledgerRows: 2345, events: oldEvents - oldKept, links: 3 });
    expect(await rowsOf('deliveries', old)).toBe(2345);

    const done = await retention.prune();
    expect(done.map((d) => d.id)).toEqual([old, oldCancelled]);
    // 2,345 ledger rows at 500 a statement: 5 batches; plus the event batches.
    expect(done[0]!.ledgerRows).toBe(2345);
    expect(done[0]!.events).toBe(oldEvents - oldKept);
    expect(done[0]!.batches).toBeGreaterThanOrEqual(5 + Math.ceil((oldEvents - oldKept) / 500));

    expect(await rowsOf('deliveries', old)).toBe(0);
    expect(await rowsOf('deliveries', oldCancelled)).toBe(0);
    expect(await rowsOf('events', old)).toBe(oldKept);
    for (const id of [old, oldCancelled]) expect(await snapshotOf(id)).toEqual(before.get(id));
    for (const id of untouched) {
      expect(await snapshotOf(id)).toEqual(before.get(id));
      expect([await rowsOf('deliveries', id), await rowsOf('events', id)]).toEqual(rowsBefore.get(id));
    }
    expect(await allSuppressions()).toEqual(suppressionsBefore);

    // Done once: nothing left to prune, and a second run changes nothing.
    expect(await retention.plan()).toEqual([]);
    expect(await retention.prune()).toEqual([]);
    expect(await snapshotOf(old)).toEqual(before.get(old));
  }, 120_000);

  it('keeps events inside the SNS replay window and a resumed prune deletes exactly what it counted', async () => {
    store = await createTestStore(dialect);
    prefix = uniquePrefix('retention');
    ctx = await openSendContext(loadConfig({ DATABASE_URL: store.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix }), { store });
    const db = store.db;
    const listId = await seedList(db, 'default');
    const now = Date.now();
    // Finished 2 days ago with a 1-day retention, but clicks recorded 30 minutes ago: inside a 1 h replay window.
    const id = await seedFinishedCampaign(db, { listId, n: 400, finishedAt: now - 2 * DAY, prefix: 'w' });
    await sql`update events set created_at = ${now - 30 * 60_000} where campaign_id = ${id} and type = 'click'`.execute(db);
    const clicks = Number((await db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', id).where('type', '=', 'click').executeTakeFirstOrThrow()).n);
    expect(clicks).toBeGreaterThan(0);
    const before = await snapshotOf(id);

    const cut = retentionCutoffs(now, 1, 3600);
    expect(cut.eventsCutoff).toBe(now - DAY);
    expect(retentionCutoffs(now, 0.01, 3600).eventsCutoff).toBeLessThan(now - 3600_000);
    expect(retentionCutoffs(now, 1, 0).eventsCutoff).toBeNull();

    // A prune stopped after its first batch, then resumed by a later run: same snapshot, same cutoff.
    const repos = openRepositories(store);
    let calls = 0;
    const first = new LedgerRetention(repos.retention, { retentionDays: 1, snsMaxAgeS: 3600, uncertainAfterMs: 30_000, batchSize: 100, pauseMs: 0 });
    expect(await first.prune({ keepGoing: () => ++calls <= 2 })).toEqual([]);
    expect(await rowsOf('deliveries', id)).toBe(300);
    expect(await snapshotOf(id)).toEqual(before);
    const later = new LedgerRetention(repos.retention, { retentionDays: 1, snsMaxAgeS: 3600, uncertainAfterMs: 30_000, batchSize: 100, pauseMs: 0 }, () => now + 3 * 3600_000);
    const [done] = await later.prune();
    expect(done!.ledgerRows).toBe(300);
    // The clicks were inside the window when the snapshot was taken: still there, counted once.
    const left = await db.selectFrom('events').select('type').where('campaign_id', '=', id).execute();
    expect(left.filter((e) => e.type === 'click')).toHaveLength(clicks);
    expect(left.every((e) => ['click', 'bounce', 'complaint'].includes(e.type))).toBe(true);
    expect(await snapshotOf(id)).toEqual(before);
  }, 120_000);

  it('`store prune --dry-run` names each campaign and what it would remove; `store prune` removes it', async () => {
    store = await createTestStore(dialect);
    const db = store.db;
    const listId = await seedList(db, 'default');
    const id = await seedFinishedCampaign(db, { listId, n: 120, finishedAt: Date.now() - 10 * DAY, prefix: 'cli' });
    const env = { DATABASE_URL: store.url, LEDGER_RETENTION_DAYS: '7' };
    const cli = join(ROOT, 'src/cli/main.ts');
    const dry = await runTs(cli, ['store', 'prune', '--dry-run'], env);
    expect(dry).toContain(`campaign ${id} (sent`);
    expect(dry).toMatch(/would remove 120 ledger rows and \d+ events/);
    expect(await rowsOf('deliveries', id)).toBe(120);
    const json = JSON.parse(await runTs(cli, ['store', 'prune', '--json'], env)) as { campaigns: { id: number; ledger_rows: number }[] };
    expect(json.campaigns).toEqual([expect.objectContaining({ id, ledger_rows: 120 })]);
    expect(await rowsOf('deliveries', id)).toBe(0);
    expect(await runTs(cli, ['store', 'prune', '--dry-run', '--days', '30'], env)).toContain('nothing to prune');
  }, 120_000);
});
