/**
 * The per-campaign ledger counters (migration 0015) equal a GROUP BY of the ledger after every
 * kind of write: a real send with bounces and complaints through the production event path and
 * a cancel, each ledger transition one by one (claim, sent batch, failed, skipped, release,
 * the reconciler's requeue, opens/clicks, cancel, deletes), the backfill of rows written before
 * the migration (and its way down), and, on PostgreSQL, concurrent writers with folds between.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Migrator, sql, type Kysely } from 'kysely';
import { BACKENDS, createTestDatabase, createTestStore, type TestStore } from '../support/store.js';
import { createHarness, type Harness } from '../support/send-harness.js';
import { seedCampaign, seedList, seedSubscriber } from '../support/seed.js';
import { waitFor } from '../support/wait.js';
import { DeliveryLedger } from '../../src/store/delivery-ledger.js';
import { CampaignReportsRepository } from '../../src/store/campaign-reports-repository.js';
import { LedgerRetentionRepository } from '../../src/store/ledger-retention-repository.js';
import { foldCounters, readCounters } from '../../src/store/delivery-counters.js';
import { providerOfEmailSql } from '../../src/store/provider-sql.js';
import { migrateToLatest, migrationProvider } from '../../src/store/migrate.js';
import { openStore, type DialectName, type Store } from '../../src/store/db.js';
import type { Database } from '../../src/store/schema.js';

type Group = { campaign: number; status: string; provider: string; n: number; opened: number; clicked: number };
const key = (g: Group) => `${g.campaign}/${g.status}/${g.provider}`;
const sorted = (gs: Group[]) => [...gs].sort((a, b) => key(a).localeCompare(key(b)));

/** GROUP BY campaign, status, provider of the ledger itself. */
async function ledgerGroups(db: Kysely<Database>): Promise<Group[]> {
  const provider = providerOfEmailSql(db);
  const rows = await db
    .selectFrom('deliveries')
    .select(['campaign_id', 'status', provider.as('provider'), sql<number>`count(*)`.as('n'), sql<number>`count(opened_at)`.as('opened'), sql<number>`count(clicked_at)`.as('clicked')])
    .groupBy(['campaign_id', 'status', sql`3`])
    .execute();
  return sorted(rows.map((r) => ({ campaign: Number(r.campaign_id), status: r.status, provider: r.provider, n: Number(r.n), opened: Number(r.opened), clicked: Number(r.clicked) })));
}

/** The counters (folded + deltas) of every campaign that has any. */
async function counterGroups(db: Kysely<Database>): Promise<Group[]> {
  const ids = await sql<{ id: number }>`select campaign_id as id from campaign_delivery_counts union select campaign_id from campaign_delivery_count_deltas union select campaign_id from deliveries`.execute(db);
  const out: Group[] = [];
  for (const { id } of ids.rows) {
    for (const r of await readCounters(db, Number(id))) out.push({ campaign: Number(id), ...r });
  }
  return sorted(out);
}

type Progress = { campaign: number; kind: string; second: number; n: number };
const progressKey = (p: Progress) => `${p.campaign}/${p.kind}/${String(p.second).padStart(12, '0')}`;

/** The chart's per-second counts (migration 0019) grouped from the ledger itself. */
async function ledgerProgress(db: Kysely<Database>): Promise<Progress[]> {
  const rows = await sql<{ campaign_id: number; kind: string; second: number; n: number }>`
    select campaign_id, kind, second, count(*) as n from (
      select campaign_id, 'sent' as kind, cast(sent_at / 1000 as bigint) as second from deliveries where sent_at is not null
      union all
      select campaign_id, case when status = 'bounced' then 'bounced' else 'delivered' end, cast(outcome_at / 1000 as bigint)
        from deliveries where outcome_at is not null and status in ('delivered', 'bounced', 'complained')) d
    group by campaign_id, kind, second`.execute(db);
  return rows.rows.map((r) => ({ campaign: Number(r.campaign_id), kind: r.kind, second: Number(r.second), n: Number(r.n) })).sort((a, b) => progressKey(a).localeCompare(progressKey(b)));
}

/** The progress counters plus their unfolded deltas, zero seconds left out. */
async function counterProgress(db: Kysely<Database>): Promise<Progress[]> {
  const rows = await sql<{ campaign_id: number; kind: string; second: number; n: number }>`
    select campaign_id, kind, second, sum(n) as n from (
      select campaign_id, kind, second, n from campaign_progress_counts union all select campaign_id, kind, second, n from campaign_progress_count_deltas) c
    group by campaign_id, kind, second`.execute(db);
  return rows.rows
    .map((r) => ({ campaign: Number(r.campaign_id), kind: r.kind, second: Number(r.second), n: Number(r.n) }))
    .filter((r) => r.n !== 0)
    .sort((a, b) => progressKey(a).localeCompare(progressKey(b)));
}

async function expectCountersMatch(db: Kysely<Database>, step: string, progress = true): Promise<void> {
  const ledger = await ledgerGroups(db);
  expect(await counterGroups(db), step).toEqual(ledger);
  if (progress) expect(await counterProgress(db), `${step} (progress)`).toEqual(await ledgerProgress(db));
}

const EMAILS = ['a@gmail.com', 'b@outlook.com', 'c@yahoo.com', 'd@icloud.com', 'e@example.com', 'f@gmx.de', 'g@proton.me', 'h@example.org', 'i@gmail.com', 'j@hotmail.com'];

/** The ten EMAILS, subscribed to the list: the recipients the ledger is queued for. */
async function seedRecipients(db: Kysely<Database>, listId: number): Promise<{ subscriberId: number; email: string }[]> {
  const subs = [];
  for (const email of EMAILS) subs.push({ subscriberId: await seedSubscriber(db, email, [listId]), email });
  return subs;
}

/**
 * A fresh database migrated up to `before` (a counter migration's predecessor) with one campaign
 * whose ten recipients (EMAILS) are queued; `run` writes rows, migrates on and checks; then the
 * database goes.
 */
async function atMigration(
  dialect: DialectName,
  before: string,
  run: (ctx: { s: Store; campaign: number; ledger: DeliveryLedger; subs: { subscriberId: number; email: string }[] }) => Promise<void>,
): Promise<void> {
  const database = await createTestDatabase(dialect);
  const s = await openStore(database.url, { migrate: false });
  try {
    await migrateToLatest(s.db, dialect, { upTo: before });
    const listId = await seedList(s.db, 'l');
    const campaign = await seedCampaign(s.db, listId);
    const ledger = new DeliveryLedger(s.db);
    const subs = await seedRecipients(s.db, listId);
    // The columns of that time only (today's insertQueued writes later ones too).
    await s.db
      .insertInto('deliveries')
      .values(subs.map((r) => ({ campaign_id: campaign, subscriber_id: r.subscriberId, email: r.email, status: 'queued' as const, ses_message_id: null, last_error: null, claimed_by: null, claimed_at: null, sent_at: null, confirmed_at: null, outcome_at: null, opened_at: null, clicked_at: null, created_at: 1000, updated_at: 1000 })))
      .execute();
    await run({ s, campaign, ledger, subs });
  } finally {
    await s.destroy();
    await database.remove();
  }
}

describe.each(BACKENDS)('ledger counters on %s', (dialect) => {
  let store: TestStore | undefined;
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
    await store?.drop();
    store = undefined;
  });

  it('insertQueued writes queued rows with their batch and the column defaults; a replay leaves existing rows as they are', async () => {
    store = await createTestStore(dialect);
    const db = store.db;
    const ledger = new DeliveryLedger(db);
    const listId = await seedList(db, 'l');
    const campaign = await seedCampaign(db, listId);
    const subs = (await seedRecipients(db, listId)).slice(0, 3);
    const batch = subs[0]!.subscriberId;
    await ledger.insertQueued(campaign, [{ ...subs[0]!, sendBatch: batch }, { ...subs[1]!, sendBatch: batch }, subs[2]!], 1000);
    await ledger.claimMany(campaign, [subs[0]!.subscriberId], 'w1', 2000);
    // Replayed page (a crash before the cursor moved), later and with other batches: nothing changes.
    await ledger.insertQueued(campaign, subs.map((s) => ({ ...s, sendBatch: 1 })), 3000);
    const rows = await db.selectFrom('deliveries').selectAll().where('campaign_id', '=', campaign).orderBy('subscriber_id').execute();
    const norm = (r: (typeof rows)[number]) => ({
      ...r, campaign_id: Number(r.campaign_id), subscriber_id: Number(r.subscriber_id), send_batch: r.send_batch === null ? null : Number(r.send_batch),
      created_at: Number(r.created_at), updated_at: Number(r.updated_at), claimed_at: r.claimed_at === null ? null : Number(r.claimed_at),
    });
    const queued = (s: { subscriberId: number; email: string }, sendBatch: number | null) => ({
      campaign_id: campaign, subscriber_id: s.subscriberId, email: s.email, status: 'queued', send_batch: sendBatch, attempts: 0, wave: 0,
      ses_message_id: null, last_error: null, claimed_by: null, claimed_at: null, sent_at: null, confirmed_at: null, outcome_at: null,
      opened_at: null, clicked_at: null, created_at: 1000, updated_at: 1000,
    });
    expect(rows.map(norm)).toEqual([
      { ...queued(subs[0]!, batch), status: 'sending', attempts: 1, claimed_by: 'w1', claimed_at: 2000, updated_at: 2000 },
      queued(subs[1]!, batch),
      queued(subs[2]!, null),
    ]);
    await expectCountersMatch(db, 'insert and replay');
  });

  it('follow every ledger transition, one at a time', async () => {
    store = await createTestStore(dialect);
    const db = store.db;
    const ledger = new DeliveryLedger(db);
    const listId = await seedList(db, 'l');
    const campaign = await seedCampaign(db, listId);
    const other = await seedCampaign(db, listId);
    const subs = await seedRecipients(db, listId);
    await ledger.insertQueued(campaign, subs, 1000);
    await ledger.insertQueued(campaign, subs, 1000); // a replayed fan-out page changes nothing
    await ledger.insertQueued(other, subs.slice(0, 4), 1000);
    await expectCountersMatch(db, 'fan-out');
    expect(await ledger.openCount(campaign)).toBe(10);

    const ids = subs.map((s) => s.subscriberId);
    const claimed = await ledger.claimManyIfMailable(campaign, ids.slice(0, 8), listId, 'w1', 2000);
    expect(claimed.size).toBe(8);
    await expectCountersMatch(db, 'claim');
    const tok = (i: number) => claimed.get(ids[i]!)!.token;
    await ledger.markSentMany([0, 1, 2, 3].map((i) => ({ campaignId: campaign, subscriberId: ids[i]!, workerId: 'w1', attempt: tok(i).attempt, sesMessageId: `m${i}`, now: 3000 })));
    await ledger.markFailed(campaign, ids[4]!, tok(4), 'rejected', 3000);
    await ledger.markSkipped(campaign, ids[5]!, tok(5), 'unsubscribed', 3000);
    await ledger.release(campaign, ids[6]!, tok(6), 'throttled', 3000);
    // A stale token changes nothing (and counts nothing).
    await ledger.markFailed(campaign, ids[6]!, tok(6), 'late', 3000);
    await expectCountersMatch(db, 'settle');
    // ids[7] stays 'sending' past the grace: the reconciler requeues it.
    const requeued = await ledger.requeueUncertain(2500, 4000);
    expect(requeued).toEqual([{ campaignId: campaign, subscriberId: ids[7]!, sendBatch: null }]);
    await expectCountersMatch(db, 'requeue');
    expect((await ledger.liveCounts(campaign, 0)).uncertain).toBe(0);

    // Outcomes, opens, clicks as the event writer writes them (status moves; timestamps once).
    await db.updateTable('deliveries').set({ status: 'delivered', outcome_at: 5000 }).where('campaign_id', '=', campaign).where('subscriber_id', 'in', ids.slice(0, 3)).execute();
    await db.updateTable('deliveries').set({ status: 'bounced', outcome_at: 5000 }).where('campaign_id', '=', campaign).where('subscriber_id', '=', ids[3]!).execute();
    await db.updateTable('deliveries').set({ opened_at: 6000 }).where('campaign_id', '=', campaign).where('subscriber_id', 'in', ids.slice(0, 2)).execute();
    await db.updateTable('deliveries').set({ clicked_at: 6000 }).where('campaign_id', '=', campaign).where('subscriber_id', '=', ids[0]!).execute();
    await db.updateTable('deliveries').set({ status: 'complained' }).where('campaign_id', '=', campaign).where('subscriber_id', '=', ids[1]!).execute();
    // A write that moves no counter (confirmation, message id) adds no delta.
    await db.updateTable('deliveries').set({ confirmed_at: 7000 }).where('campaign_id', '=', campaign).execute();
    await expectCountersMatch(db, 'outcomes');
    const live = await ledger.liveCounts(campaign, 10_000);
    expect(live).toMatchObject({ rows: 10, opened: 2, clicked: 1, byStatus: { delivered: 2, complained: 1, bounced: 1, failed: 1, skipped: 1, queued: 4 } });

    await ledger.foldCounters();
    await expectCountersMatch(db, 'fold');
    expect(await ledger.cancelQueued(campaign, 8000)).toBe(4);
    await expectCountersMatch(db, 'cancel');
    expect(await ledger.openCount(campaign)).toBe(0);
    // Retention's and a cascade's deletes.
    await db.deleteFrom('deliveries').where('campaign_id', '=', other).execute();
    await db.deleteFrom('deliveries').where('campaign_id', '=', campaign).where('subscriber_id', 'in', ids.slice(0, 5)).execute();
    await expectCountersMatch(db, 'delete');
    await ledger.foldCounters();
    await expectCountersMatch(db, 'fold after delete');
    expect(await readCounters(db, other)).toEqual([]);
  });

  it('equal the ledger after a real send with bounces, complaints, and a cancelled campaign', async () => {
    h = await createHarness({ dialect, subscribers: 40, sendRate: 400, sendEvents: true, allEvents: true });
    const db = h.store.db;
    for (let i = 1; i <= 3; i++) await seedSubscriber(db, `bounce+k${i}@simulator.amazonses.com`, [h.listId]);
    for (let i = 1; i <= 2; i++) await seedSubscriber(db, `complaint+k${i}@simulator.amazonses.com`, [h.listId]);
    for (let i = 1; i <= 3; i++) await seedSubscriber(db, `reader${i}@gmail.com`, [h.listId]);
    const id = await h.startCampaign();
    await h.startWorker();
    await h.waitForStatus(id, 'sent', 60_000);
    await waitFor('bounces and complaints applied', async () => {
      const c = await h!.ctx.ledger.liveCounts(id, 0);
      return (c.byStatus.bounced ?? 0) === 3 && (c.byStatus.complained ?? 0) === 2;
    }, 30_000, 100);
    await expectCountersMatch(db, 'after the send');
    // A second campaign, cancelled as soon as it started (rows queued, some maybe in flight).
    const second = await h.startCampaign();
    await waitFor('rows fanned out', async () => (await h!.ctx.ledger.liveCounts(second, 0)).rows > 0, 30_000, 20);
    await h.ctx.orchestrator.cancel(second);
    await waitFor('nothing in flight', async () => (await h!.ctx.ledger.openCount(second)) === 0, 30_000, 100);
    await expectCountersMatch(db, 'after the cancel');
    await foldCounters(db);
    await expectCountersMatch(db, 'after a fold');
    const stats = await h.ctx.orchestrator.stats(id);
    expect(stats).toMatchObject({ bounced: 3, complained: 2, total: 48 });
  }, 120_000);

  it('are backfilled for rows written before the migration, and the migration goes down and up again', async () => {
    await atMigration(dialect, '0014-search-indexes', async ({ s, campaign, ledger, subs }) => {
      await s.db.updateTable('deliveries').set({ status: 'delivered', opened_at: 5 }).where('subscriber_id', 'in', subs.slice(0, 4).map((x) => x.subscriberId)).execute();
      expect(await migrateToLatest(s.db, dialect, { upTo: '0015-delivery-counters' })).toEqual(['0015-delivery-counters']);
      await expectCountersMatch(s.db, 'backfill', false);
      expect((await ledger.liveCounts(campaign, 0)).byStatus).toEqual({ queued: 6, delivered: 4 });
      await ledger.cancelQueued(campaign, 2000);
      await expectCountersMatch(s.db, 'after the backfill', false);
      const down = await new Migrator({ db: s.db, provider: migrationProvider(dialect) }).migrateTo('0014-search-indexes');
      expect(down.error).toBeUndefined();
      // No trigger is left behind: writes work without the counter tables.
      await s.db.updateTable('deliveries').set({ status: 'queued' }).execute();
      expect(await migrateToLatest(s.db, dialect, { upTo: '0015-delivery-counters' })).toEqual(['0015-delivery-counters']);
      await expectCountersMatch(s.db, 'up again', false);
    });
  });

  it('keep the progress counts through migration 0027 (SQLite: the update trigger skips changes that count nothing), down and up again', async () => {
    await atMigration(dialect, '0026-delivery-send-batch', async ({ s, campaign, ledger, subs }) => {
      const ids = subs.map((x) => x.subscriberId);
      const sendAndSettle = async (from: number, at: number) => {
        const claimed = await ledger.claimMany(campaign, ids.slice(from, from + 3), 'w', at);
        await ledger.markSentMany([...claimed.values()].map((c) => ({ campaignId: campaign, subscriberId: c.subscriberId, workerId: 'w', attempt: c.token.attempt, sesMessageId: `m${c.subscriberId}`, now: at + 500 })));
        // Outcomes, then status changes alone of rows that have one: a complaint after a
        // delivery (still counted delivered), a bounce after a delivery (moves to bounced).
        const set = (i: number, patch: { status: 'delivered' | 'complained' | 'bounced'; outcome_at?: number }) =>
          s.db.updateTable('deliveries').set(patch).where('campaign_id', '=', campaign).where('subscriber_id', '=', ids[from + i]!).execute();
        await set(0, { status: 'delivered', outcome_at: at + 1500 });
        await set(0, { status: 'complained' });
        await set(1, { status: 'delivered', outcome_at: at + 2500 });
        await set(1, { status: 'bounced' });
      };
      await sendAndSettle(0, 10_000);
      await expectCountersMatch(s.db, 'before 0027');
      expect(await migrateToLatest(s.db, dialect)).toContain('0027-sqlite-progress-trigger-when');
      await sendAndSettle(3, 20_000);
      // A claim handed back (sending → queued, nothing sent) and claimed again.
      const [row] = [...(await ledger.claimMany(campaign, [ids[6]!], 'w', 30_000)).values()];
      await ledger.release(campaign, ids[6]!, row!.token, null);
      await expectCountersMatch(s.db, 'after 0027');
      const down = await new Migrator({ db: s.db, provider: migrationProvider(dialect) }).migrateDown();
      expect(down.results?.[0]).toMatchObject({ migrationName: '0027-sqlite-progress-trigger-when', direction: 'Down', status: 'Success' });
      await sendAndSettle(6, 40_000);
      await expectCountersMatch(s.db, 'down again');
      expect(await migrateToLatest(s.db, dialect)).toEqual(['0027-sqlite-progress-trigger-when']);
      await expectCountersMatch(s.db, 'up again');
    });
  });

  it('give the chart the ledger grouped into buckets, with edges on whole seconds from the start', async () => {
    store = await createTestStore(dialect);
    const db = store.db;
    const ledger = new DeliveryLedger(db);
    const listId = await seedList(db, 'l');
    const campaign = await seedCampaign(db, listId);
    const subs = [];
    for (let i = 0; i < 60; i++) subs.push({ subscriberId: await seedSubscriber(db, `r${i}@${i % 2 ? 'gmail.com' : 'example.com'}`, [listId]), email: `r${i}@${i % 2 ? 'gmail.com' : 'example.com'}` });
    await ledger.insertQueued(campaign, subs, 1000);
    const startedAt = 1_700_000_000_123;
    // Sends spread over 40 s at odd milliseconds, outcomes 0.5–3 s later; a few bounce, one complains.
    for (const [i, s] of subs.entries()) {
      if (i >= 55) continue; // still queued
      const sentAt = startedAt - 100 + i * 713;
      await db.updateTable('deliveries').set({ status: 'sent', sent_at: sentAt, claimed_at: sentAt, ses_message_id: `m${i}` }).where('campaign_id', '=', campaign).where('subscriber_id', '=', s.subscriberId).execute();
      if (i < 50) {
        const status = i % 10 === 3 ? 'bounced' : i === 7 ? 'complained' : 'delivered';
        await db.updateTable('deliveries').set({ status, outcome_at: sentAt + 500 + (i % 6) * 499 }).where('campaign_id', '=', campaign).where('subscriber_id', '=', s.subscriberId).execute();
      }
    }
    await expectCountersMatch(db, 'spread');
    const reference = async (width: number) => {
      const origin = Math.floor(startedAt / 1000) * 1000;
      const rows = await db.selectFrom('deliveries').select(['sent_at', 'outcome_at', 'status']).where('campaign_id', '=', campaign).execute();
      const counts = new Map<string, number>();
      const add = (kind: string, t: number) => {
        const k = `${Math.trunc((t - origin) / width)}/${kind}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      };
      for (const r of rows) {
        if (r.sent_at !== null) add('sent', Number(r.sent_at));
        if (r.outcome_at !== null && ['delivered', 'bounced', 'complained'].includes(r.status)) add(r.status === 'bounced' ? 'bounced' : 'delivered', Number(r.outcome_at));
      }
      return [...counts].map(([k, n]) => `${k}=${n}`).sort();
    };
    const reports = new CampaignReportsRepository(db);
    for (const width of [1000, 3000, 7000, 60_000]) {
      const got = (await reports.liveProgressBuckets(campaign, startedAt, width)).map((b) => `${b.bucket}/${b.kind}=${b.n}`).sort();
      expect(got, `width ${width}`).toEqual(await reference(width));
    }
    await expect(reports.liveProgressBuckets(campaign, startedAt, 1500)).rejects.toThrow(/multiple of 1000/);
    // Deltas folded (Postgres) or not, the chart reads the same.
    const before = await reports.liveProgressBuckets(campaign, startedAt, 3000);
    await ledger.foldCounters();
    expect(await reports.liveProgressBuckets(campaign, startedAt, 3000)).toEqual(expect.arrayContaining(before));
    expect((await reports.liveProgressBuckets(campaign, startedAt, 3000)).length).toBe(before.length);
  });

  it('keep the chart through a resend reset and a prune: the persisted series replaces the counters, never adds to them', async () => {
    store = await createTestStore(dialect);
    const db = store.db;
    const ledger = new DeliveryLedger(db);
    const reports = new CampaignReportsRepository(db);
    const listId = await seedList(db, 'l');
    const campaign = await seedCampaign(db, listId);
    const other = await seedCampaign(db, listId);
    const subs = await seedRecipients(db, listId);
    await ledger.insertQueued(campaign, subs, 1000);
    await ledger.insertQueued(other, subs.slice(0, 3), 1000);
    const startedAt = 1_700_000_000_250;
    const row = (id: number, c = campaign) => db.updateTable('deliveries').where('campaign_id', '=', c).where('subscriber_id', '=', id);
    for (const [i, s] of subs.entries()) {
      if (i >= 8) continue;
      const sentAt = startedAt + i * 1_337;
      await row(s.subscriberId).set({ status: 'sent', sent_at: sentAt, ses_message_id: `m${i}` }).execute();
      const status = i === 3 ? 'bounced' : i === 5 ? 'delivered' : i < 7 ? 'delivered' : null;
      if (status) await row(s.subscriberId).set({ status, outcome_at: sentAt + 900 }).execute();
    }
    await row(subs[5]!.subscriberId).set({ status: 'complained' }).execute(); // outcome_at kept: still 'delivered' in its second
    for (const s of subs.slice(0, 3)) await row(s.subscriberId, other).set({ status: 'delivered', sent_at: startedAt, outcome_at: startedAt + 10 }).execute();
    await expectCountersMatch(db, 'sent and settled');
    // A row reset for a resend (sent_at and outcome cleared, queued again), then sent again seconds later.
    const reset = subs[6]!.subscriberId;
    await row(reset).set({ status: 'queued', sent_at: null, outcome_at: null, ses_message_id: null }).execute();
    await expectCountersMatch(db, 'reset');
    await row(reset).set({ status: 'sent', sent_at: startedAt + 30_001, ses_message_id: 'm6b' }).execute();
    await row(reset).set({ status: 'delivered', outcome_at: startedAt + 31_500 }).execute();
    await expectCountersMatch(db, 'resent');
    await ledger.foldCounters();

    const width = 2000;
    const sortedBuckets = async () => (await reports.progressBuckets(campaign, startedAt, width)).map((b) => `${b.bucket}/${b.kind}=${b.n}`).sort();
    const before = await sortedBuckets();
    // The ledger grouped with edges on whole seconds from the start's second (what the counters give).
    const origin = Math.floor(startedAt / 1000) * 1000;
    const expected = new Map<string, number>();
    for (const r of await db.selectFrom('deliveries').select(['sent_at', 'outcome_at', 'status']).where('campaign_id', '=', campaign).execute()) {
      const add = (kind: string, t: number) => expected.set(`${Math.trunc((t - origin) / width)}/${kind}`, (expected.get(`${Math.trunc((t - origin) / width)}/${kind}`) ?? 0) + 1);
      if (r.sent_at !== null) add('sent', Number(r.sent_at));
      if (r.outcome_at !== null && ['delivered', 'bounced', 'complained'].includes(r.status)) add(r.status === 'bounced' ? 'bounced' : 'delivered', Number(r.outcome_at));
    }
    expect(before).toEqual([...expected].map(([k, n]) => `${k}=${n}`).sort());
    expect(before).toContain('15/sent=1'); // the resend's second, not its first send's

    // Retention: totals (with the series) persisted first, then the rows go in batches.
    const retention = new LedgerRetentionRepository(db);
    await retention.persistTotals(campaign, { uncertainBefore: 0, startedAt, seriesWidth: width, eventsCutoff: null });
    expect(await retention.deleteLedgerBatch(campaign, 4)).toBe(4);
    await expectCountersMatch(db, 'half pruned');
    expect(await sortedBuckets(), 'half pruned').toEqual(before);
    while ((await retention.deleteLedgerBatch(campaign, 4)) > 0) await expectCountersMatch(db, 'pruning');
    await expectCountersMatch(db, 'pruned');
    expect(await sortedBuckets(), 'pruned, deltas unfolded').toEqual(before);
    await ledger.foldCounters();
    // Nothing of the pruned campaign is left in the counters to add to its persisted series; the other campaign keeps its own.
    const left = (await counterProgress(db)).filter((p) => p.campaign === campaign);
    expect(left).toEqual([]);
    expect(await sortedBuckets(), 'pruned and folded').toEqual(before);
    expect((await reports.progressBuckets(other, startedAt, width)).map((b) => `${b.bucket}/${b.kind}=${b.n}`).sort()).toEqual(['0/delivered=3', '0/sent=3']);
  });

  it('progress counters are backfilled for rows written before 0019, and the migration goes down and up again', async () => {
    await atMigration(dialect, '0018-subscriber-search-fts', async ({ s, campaign, subs }) => {
      await s.db.updateTable('deliveries').set({ status: 'sent', sent_at: 12_345 }).where('subscriber_id', 'in', subs.slice(0, 6).map((x) => x.subscriberId)).execute();
      await s.db.updateTable('deliveries').set({ status: 'bounced', outcome_at: 15_001 }).where('subscriber_id', 'in', subs.slice(0, 2).map((x) => x.subscriberId)).execute();
      await s.db.updateTable('deliveries').set({ status: 'complained', outcome_at: 17_999 }).where('subscriber_id', '=', subs[2]!.subscriberId).execute();
      expect(await migrateToLatest(s.db, dialect, { upTo: '0019-progress-counters' })).toEqual(['0019-progress-counters']);
      await expectCountersMatch(s.db, 'backfill');
      expect(await counterProgress(s.db)).toEqual([
        { campaign, kind: 'bounced', second: 15, n: 2 },
        { campaign, kind: 'delivered', second: 17, n: 1 },
        { campaign, kind: 'sent', second: 12, n: 6 },
      ]);
      await s.db.updateTable('deliveries').set({ status: 'delivered', outcome_at: 19_000 }).where('subscriber_id', '=', subs[3]!.subscriberId).execute();
      await expectCountersMatch(s.db, 'after the backfill');
      const down = await new Migrator({ db: s.db, provider: migrationProvider(dialect) }).migrateTo('0018-subscriber-search-fts');
      expect(down.error).toBeUndefined();
      // No trigger is left behind: writes work without the progress tables.
      await s.db.updateTable('deliveries').set({ sent_at: 22_000 }).execute();
      expect(await migrateToLatest(s.db, dialect, { upTo: '0019-progress-counters' })).toEqual(['0019-progress-counters']);
      await expectCountersMatch(s.db, 'up again');
    });
  });
});

describe('ledger counters on postgres, concurrent writers', () => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.drop();
    store = undefined;
  });

  it('equal the ledger after concurrent claims, sent batches, releases and folds', async () => {
    store = await createTestStore('postgres');
    const db = store.db;
    const ledger = new DeliveryLedger(db);
    const listId = await seedList(db, 'l');
    const campaign = await seedCampaign(db, listId);
    const subs: { subscriberId: number; email: string }[] = [];
    for (let i = 0; i < 400; i++) subs.push({ subscriberId: await seedSubscriber(db, `${i}@${['gmail.com', 'outlook.com', 'example.com', 'yahoo.com'][i % 4]}`, [listId]), email: '' });
    for (const s of subs) s.email = (await db.selectFrom('subscribers').select('email').where('id', '=', s.subscriberId).executeTakeFirstOrThrow()).email;
    // Four fan-out writers racing over the same pages (most inserts conflict).
    await Promise.all([0, 1, 2, 3].map(async () => {
      for (let i = 0; i < subs.length; i += 50) await ledger.insertQueued(campaign, subs.slice(i, i + 50), 1000);
    }));
    await expectCountersMatch(db, 'concurrent fan-out');
    const ids = subs.map((s) => s.subscriberId);
    let folds = 0;
    const worker = async (w: number) => {
      for (let round = 0; round < 6; round++) {
        // Every worker tries the same batch: each row is won by one of them.
        const batch = ids.filter((_, i) => i % 6 === round);
        const claimed = await ledger.claimManyIfMailable(campaign, batch, listId, `w${w}`, 2000 + round);
        const won = [...claimed.values()];
        const sent = won.filter((c) => c.subscriberId % 5 !== 0);
        await ledger.markSentMany(sent.map((c) => ({ campaignId: campaign, subscriberId: c.subscriberId, workerId: `w${w}`, attempt: c.token.attempt, sesMessageId: `m${c.subscriberId}`, now: 3000 })));
        for (const c of won.filter((x) => x.subscriberId % 5 === 0)) {
          if (c.subscriberId % 2 === 0) await ledger.release(c.campaignId, c.subscriberId, c.token, 'throttled', 3000);
          else await ledger.markFailed(c.campaignId, c.subscriberId, c.token, 'rejected', 3000);
        }
        await db.updateTable('deliveries').set({ opened_at: 4000 }).where('campaign_id', '=', campaign).where('status', '=', 'sent').where('opened_at', 'is', null).where('subscriber_id', 'in', batch.slice(0, 10)).execute();
      }
    };
    const folder = async () => {
      for (let i = 0; i < 20; i++) {
        await foldCounters(db);
        folds++;
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await Promise.all([worker(1), worker(2), worker(3), worker(4), folder(), folder()]);
    expect(folds).toBe(40);
    await expectCountersMatch(db, 'concurrent writers');
    const counts = await ledger.liveCounts(campaign, 0);
    expect(counts.rows).toBe(400);
    expect((counts.byStatus.sent ?? 0) + (counts.byStatus.failed ?? 0) + (counts.byStatus.queued ?? 0)).toBe(400);
    await foldCounters(db);
    expect(Number((await sql<{ n: number }>`select count(*) as n from campaign_delivery_count_deltas`.execute(db)).rows[0]!.n)).toBe(0);
    await expectCountersMatch(db, 'folded');
  }, 60_000);
});
