/**
 * Group commit of 'sent' writes: concurrent sends become one transaction, each caller
 * learns whether its own conditional write won, and a failed write reaches every caller
 * of that batch (so their jobs fail instead of reporting a row that was never written).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, createTestStore, type TestStore } from '../support/store.js';
import { DeliveryLedger } from '../../src/store/delivery-ledger.js';
import { CampaignsRepository } from '../../src/store/campaigns-repository.js';
import { SentWriter } from '../../workers/sent-writer.js';
import { seedAudience } from '../support/pipeline.js';

describe.each(BACKENDS)('SentWriter on %s', (dialect) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.drop();
    store = undefined;
  });

  it('writes concurrent rows in batches with the conditional semantics of markSent', async () => {
    store = await createTestStore(dialect);
    const listId = await seedAudience(store.db, 10);
    const c = await new CampaignsRepository(store.db).create({
      listId, subject: 's', issueTitle: 't', issueSlug: 't', issueDate: null, sourcePath: null,
      sourceMarkdown: '', compiledJson: '{}', scheduledAt: null, status: 'draft',
    });
    const ledger = new DeliveryLedger(store.db);
    const subs = await store.db.selectFrom('subscribers').select(['id', 'email']).orderBy('id').execute();
    await ledger.insertQueued(c.id, subs.map((s) => ({ subscriberId: s.id, email: s.email })));
    for (const s of subs.slice(0, 9)) expect(await ledger.claim(c.id, s.id, 'w1')).not.toBeNull();
    let batches = 0;
    const writer = new SentWriter({ markSentMany: (rows) => (batches++, ledger.markSentMany(rows)) }, { maxRows: 4, maxDelayMs: 20 });
    // Row 10 was never claimed by w1: its write must lose and leave it queued.
    const results = await Promise.all(subs.map((s) => writer.markSent(c.id, s.id, 'w1', `msg-${s.id}`)));
    expect(results).toEqual([...Array(9).fill(true), false]);
    expect(batches).toBe(3); // 4 + 4 + 2 (the last one by the timer)
    const rows = await store.db.selectFrom('deliveries').select(['subscriber_id', 'status', 'ses_message_id']).orderBy('subscriber_id').execute();
    expect(rows.slice(0, 9).every((r) => r.status === 'sent' && r.ses_message_id === `msg-${r.subscriber_id}`)).toBe(true);
    expect(rows[9]).toMatchObject({ status: 'queued', ses_message_id: null });
  });

  it('a failed batch rejects every caller in it', async () => {
    const writer = new SentWriter({ markSentMany: () => Promise.reject(new Error('disk full')) }, { maxRows: 10, maxDelayMs: 1 });
    const all = await Promise.allSettled([writer.markSent(1, 1, 'w', 'a'), writer.markSent(1, 2, 'w', 'b')]);
    expect(all.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
