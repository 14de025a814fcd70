/**
 * The reconciler's scan for rows left 'sending' (every second, in every worker) is served by
 * the partial index of migration 0004 on both backends, and still finds exactly the rows
 * past the grace period that SES has not confirmed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { BACKENDS, createTestStore, type TestStore } from '../support/store.js';
import { DeliveryLedger } from '../../src/store/delivery-ledger.js';
import { CampaignsRepository } from '../../src/store/campaigns-repository.js';
import { seedAudience } from '../support/pipeline.js';

describe.each(BACKENDS)('uncertain-row scan on %s', (dialect) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.drop();
    store = undefined;
  });

  it('uses the partial index and finds only unconfirmed rows claimed before the threshold', async () => {
    store = await createTestStore(dialect);
    const db = store.db;
    const listId = await seedAudience(db, 300);
    const c = await new CampaignsRepository(db).create({
      listId, subject: 's', issueTitle: 't', issueSlug: 't', issueDate: null, sourcePath: null,
      sourceMarkdown: '', compiledJson: '{}', scheduledAt: null, status: 'draft',
    });
    const ledger = new DeliveryLedger(db);
    const subs = await db.selectFrom('subscribers').select(['id', 'email']).orderBy('id').execute();
    await ledger.insertQueued(c.id, subs.map((s) => ({ subscriberId: s.id, email: s.email })));
    // Most rows long settled; four in flight: old, old but confirmed by SES, recent, and old again.
    await db.updateTable('deliveries').set({ status: 'sent' }).where('subscriber_id', '>', 4).execute();
    const inFlight = [
      { id: subs[0]!.id, claimedAt: 1_000, confirmed: null },
      { id: subs[1]!.id, claimedAt: 1_000, confirmed: 1_500 },
      { id: subs[2]!.id, claimedAt: 9_000, confirmed: null },
      { id: subs[3]!.id, claimedAt: 2_000, confirmed: null },
    ];
    for (const r of inFlight) {
      await db.updateTable('deliveries').set({ status: 'sending', claimed_by: 'w', claimed_at: r.claimedAt, confirmed_at: r.confirmed })
        .where('campaign_id', '=', c.id).where('subscriber_id', '=', r.id).execute();
    }

    const found = await ledger.uncertainRows(5_000, 100).execute();
    expect(found.map((r) => r.subscriber_id).sort((a, b) => a - b)).toEqual([subs[0]!.id, subs[3]!.id]);

    const query = ledger.uncertainRows(5_000, 100).compile();
    let plan: string;
    if (dialect === 'sqlite') {
      const rows = await db.executeQuery<{ detail: string }>({ ...query, sql: `EXPLAIN QUERY PLAN ${query.sql}` });
      plan = rows.rows.map((r) => r.detail).join('\n');
    } else {
      // Tiny tables make a sequential scan cheapest; forbid it to see whether the index is usable at all.
      plan = await db.connection().execute(async (conn) => {
        await sql`set enable_seqscan = off`.execute(conn);
        const rows = await conn.executeQuery<{ 'QUERY PLAN': string }>({ ...query, sql: `EXPLAIN ${query.sql}` });
        await sql`reset enable_seqscan`.execute(conn);
        return rows.rows.map((r) => r['QUERY PLAN']).join('\n');
      });
    }
    expect(plan).toContain('deliveries_sending_claimed');
  });
});
