/**
 * Issue 15: the send claim (DeliveryLedger.claimManyIfMailable: two statements per batch of
 * claims, the claim and the audience re-check) finds its rows by the ledger's primary key (campaign_id, subscriber_id), whatever the
 * campaign's size. On a fresh SQLite database (no ANALYZE statistics, as a new install runs) the
 * planner otherwise takes deliveries_campaign_status and walks every queued row of the campaign
 * on each statement (~0.8 ms per claim batch with 20,000 queued). Postgres: no full scan.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, createTestStore, type TestStore } from '../support/store.js';
import { seedAudience } from '../support/pipeline.js';
import { seedFinishedCampaign } from '../support/finished-campaign.js';
import { fullScans, planOf, recordingDb } from '../support/query-plans.js';
import { DeliveryLedger } from '../../src/store/delivery-ledger.js';

describe.each(BACKENDS)('send claim plan on %s', (dialect) => {
  let store: TestStore;
  let listId: number;
  let live: number;

  beforeAll(async () => {
    store = await createTestStore(dialect);
    listId = await seedAudience(store.db, 2000);
    live = await seedFinishedCampaign(store.db, { listId, n: 2000, finishedAt: Date.now(), prefix: 'l', status: 'sending' });
    await store.db.updateTable('deliveries').set({ status: 'queued', sent_at: null, outcome_at: null, confirmed_at: null, claimed_at: null, claimed_by: null }).where('campaign_id', '=', live).execute();
    // The campaign's recipients are members of its list (the claim re-checks membership).
    const subs = await store.db.selectFrom('deliveries').select('subscriber_id').where('campaign_id', '=', live).execute();
    for (let i = 0; i < subs.length; i += 500) {
      await store.db.insertInto('list_members')
        .values(subs.slice(i, i + 500).map((r) => ({ list_id: listId, subscriber_id: Number(r.subscriber_id), status: 'subscribed' as const, created_at: 1, updated_at: 1 })))
        .execute();
    }
  }, 60_000);
  afterAll(async () => {
    await store?.drop();
  });

  it('claims by primary key, and claims what it should', async () => {
    const rec = recordingDb(store.db);
    // Recipients still mailable (the fixture bounced or suppressed some).
    const ids = (
      await store.db.selectFrom('deliveries as d').innerJoin('subscribers as s', 's.id', 'd.subscriber_id').select('d.subscriber_id')
        .where('d.campaign_id', '=', live).where('s.status', '=', 'active')
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('suppressions as x').select('x.email').whereRef('x.email', '=', 's.email'))))
        .orderBy('d.subscriber_id').limit(5).execute()
    ).map((r) => Number(r.subscriber_id));
    expect(ids).toHaveLength(5);
    const claimed = await new DeliveryLedger(rec.db).claimManyIfMailable(live, ids, listId, 'w1');
    expect([...claimed.keys()].sort((a, b) => a - b)).toEqual(ids);
    // Two statements for the whole batch (the claim, then the re-check of the rows won), neither a full scan.
    const [statement, recheck, ...more] = rec.take();
    expect(more).toEqual([]);
    const plan = await planOf(store.db, dialect, statement!);
    expect(fullScans(dialect, statement!.sql, plan)).toEqual([]);
    expect(fullScans(dialect, recheck!.sql, await planOf(store.db, dialect, recheck!))).toEqual([]);
    if (dialect === 'sqlite') {
      expect(plan).toMatch(/SEARCH deliveries USING INDEX \w+ \(campaign_id=\? AND subscriber_id=\?\)/);
      expect(plan).not.toMatch(/deliveries_campaign_status/);
    }
    // Claimed once: a second claim of the same rows gets none.
    expect((await new DeliveryLedger(store.db).claimManyIfMailable(live, ids, listId, 'w2')).size).toBe(0);
  });
});
