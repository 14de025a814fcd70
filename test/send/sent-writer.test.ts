/**
 * Group commit of 'sent' writes: concurrent sends become one statement, each caller
 * learns whether its own conditional write (fenced by its claim token) won, and a failed
 * write reaches every caller of that batch (so their jobs fail instead of reporting a row
 * that was never written).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, createTestStore, type TestStore } from '../support/store.js';
import { DeliveryLedger, type ClaimToken } from '../../src/store/delivery-ledger.js';
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
    const tokens: ClaimToken[] = [];
    for (const s of subs.slice(0, 8)) tokens.push((await ledger.claim(c.id, s.id, 'w1'))!.token);
    // Row 9: claimed, handed back and claimed again by the same worker: only the newer claim may write.
    const stale = (await ledger.claim(c.id, subs[8]!.id, 'w1'))!.token;
    expect(await ledger.release(c.id, subs[8]!.id, stale, null)).toBe(true);
    const fresh = (await ledger.claim(c.id, subs[8]!.id, 'w1'))!.token;
    expect(fresh.attempt).toBe(stale.attempt + 1);
    expect(await ledger.markSent(c.id, subs[8]!.id, stale, 'msg-stale')).toBe(false);
    tokens.push(fresh);
    // Row 10 was never claimed by w1: its write must lose and leave it queued.
    tokens.push({ workerId: 'w1', attempt: 1 });
    let batches = 0;
    const writer = new SentWriter({ markSentMany: (rows) => (batches++, ledger.markSentMany(rows)) }, { maxRows: 4, maxDelayMs: 20 });
    const results = await Promise.all(subs.map((s, i) => writer.markSent(c.id, s.id, tokens[i]!, `msg-${s.id}`)));
    expect(results).toEqual([...Array(9).fill(true), false]);
    expect(batches).toBe(3); // 4 + 4 + 2 (the last one by the timer)
    const rows = await store.db.selectFrom('deliveries').select(['subscriber_id', 'status', 'ses_message_id']).orderBy('subscriber_id').execute();
    expect(rows.slice(0, 9).every((r) => r.status === 'sent' && r.ses_message_id === `msg-${r.subscriber_id}`)).toBe(true);
    expect(rows[9]).toMatchObject({ status: 'queued', ses_message_id: null });
  });

  it('a failed batch rejects every caller in it', async () => {
    const writer = new SentWriter({ markSentMany: () => Promise.reject(new Error('disk full')) }, { maxRows: 10, maxDelayMs: 1 });
    const all = await Promise.allSettled([writer.markSent(1, 1, { workerId: 'w', attempt: 1 }, 'a'), writer.markSent(1, 2, { workerId: 'w', attempt: 1 }, 'b')]);
    expect(all.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
