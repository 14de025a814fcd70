/**
 * Group commit of 'sent' writes: concurrent sends become one statement, each caller
 * learns whether its own conditional write (fenced by its claim token) won, and a failed
 * write is retried (SES has accepted those messages: the row must become 'sent'), at
 * shutdown spilled to Redis.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, createTestStore, type TestStore } from '../support/store.js';
import { DeliveryLedger, type ClaimToken } from '../../src/store/delivery-ledger.js';
import { CampaignsRepository } from '../../src/store/campaigns-repository.js';
import { SentWriter } from '../../workers/sent-writer.js';
import { SentSpill } from '../../workers/sent-spill.js';
import { seedAudience } from '../support/pipeline.js';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { Redis } from 'ioredis';

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

  /** A campaign with `n` rows, the first `claimed` of them claimed by worker w1. */
  async function seeded(n: number, claimed: number) {
    store = await createTestStore(dialect);
    const listId = await seedAudience(store.db, n);
    const c = await new CampaignsRepository(store.db).create({
      listId, subject: 's', issueTitle: 't', issueSlug: 't', issueDate: null, sourcePath: null,
      sourceMarkdown: '', compiledJson: '{}', scheduledAt: null, status: 'draft',
    });
    const ledger = new DeliveryLedger(store.db);
    const subs = await store.db.selectFrom('subscribers').select(['id', 'email']).orderBy('id').execute();
    await ledger.insertQueued(c.id, subs.map((s) => ({ subscriberId: s.id, email: s.email })));
    for (const s of subs.slice(0, claimed)) expect(await ledger.claim(c.id, s.id, 'w1')).not.toBeNull();
    const statuses = async () => (await store!.db.selectFrom('deliveries').select('status').orderBy('subscriber_id').execute()).map((r) => r.status);
    return { campaignId: c.id, ledger, subs, statuses };
  }

  it('a failed batch is kept and retried until the database takes it: an accepted send is never dropped', async () => {
    const { campaignId, ledger, subs, statuses } = await seeded(3, 3);
    let failures = 3;
    const errors: number[] = [];
    const writer = new SentWriter(
      { markSentMany: (rows) => (failures-- > 0 ? Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })) : ledger.markSentMany(rows)) },
      { maxRows: 10, maxDelayMs: 1, retryInitialMs: 5, onWriteError: (_err, info) => errors.push(info.attempt) },
    );
    const results = await Promise.all(subs.map((s) => writer.markSent(campaignId, s.id, { workerId: 'w1', attempt: 1 }, `msg-${s.id}`)));
    expect(results).toEqual([true, true, true]);
    expect(errors).toEqual([1, 2, 3]);
    expect(await statuses()).toEqual(['sent', 'sent', 'sent']);
  });

  it('at shutdown, writes the database still refuses after the bound go to the spill; a later replay writes them', async () => {
    const { campaignId, ledger, subs, statuses } = await seeded(2, 2);
    let down = true;
    const writer = new SentWriter(
      { markSentMany: (rows) => (down ? Promise.reject(new Error('Connection terminated unexpectedly')) : ledger.markSentMany(rows)) },
      { maxRows: 10, maxDelayMs: 1, retryInitialMs: 5 },
    );
    const sends = subs.map((s) => writer.markSent(campaignId, s.id, { workerId: 'w1', attempt: 1 }, `msg-${s.id}`));
    const prefix = uniquePrefix('spill');
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    try {
      const spill = new SentSpill(redis, prefix);
      writer.giveUpAfter(50, (rows) => spill.spill(rows));
      await writer.flush();
      // The senders are answered (their jobs complete), the rows are in Redis, not in the database yet.
      expect(await Promise.all(sends)).toEqual([true, true]);
      expect(await spill.size()).toBe(2);
      expect(await statuses()).toEqual(['sending', 'sending']);
      // While the database is still down a replay keeps them.
      await expect(spill.replay({ markSentMany: () => Promise.reject(new Error('connect ECONNREFUSED')) })).rejects.toThrow();
      expect(await spill.size()).toBe(2);
      down = false;
      expect(await spill.replay(ledger)).toBe(2);
      expect(await spill.size()).toBe(0);
      const rows = await store!.db.selectFrom('deliveries').select(['status', 'ses_message_id', 'subscriber_id']).orderBy('subscriber_id').execute();
      expect(rows).toEqual(subs.map((s) => ({ status: 'sent', ses_message_id: `msg-${s.id}`, subscriber_id: s.id })));
      expect(await statuses()).toEqual(['sent', 'sent']);
    } finally {
      await deletePrefix(prefix);
      redis.disconnect();
    }
  });
});
