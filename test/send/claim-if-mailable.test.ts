/**
 * The send hot path claims a row and re-checks the audience (DeliveryLedger.claimIfMailable;
 * a batch of claims in two statements, claimManyIfMailable). It must agree with AudienceRepository.isMailable:
 * never claim a row whose subscriber left, and never claim a row twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, createTestStore, type TestStore } from '../support/store.js';
import { DeliveryLedger } from '../../src/store/delivery-ledger.js';
import { CampaignsRepository } from '../../src/store/campaigns-repository.js';
import { AudienceRepository } from '../../src/store/audience-repository.js';
import { seedAudience } from '../support/pipeline.js';

describe.each(BACKENDS)('claimIfMailable on %s', (dialect) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.drop();
    store = undefined;
  });

  it.each([false, true])('claims mailable rows once and leaves rows of departed subscribers queued (batch of all: %s)', async (batched) => {
    store = await createTestStore(dialect);
    const db = store.db;
    const listId = await seedAudience(db, 6);
    const campaigns = new CampaignsRepository(db);
    const c = await campaigns.create({
      listId, subject: 's', issueTitle: 't', issueSlug: 't', issueDate: null, sourcePath: null,
      sourceMarkdown: '', compiledJson: '{}', scheduledAt: null, status: 'draft',
    });
    const ledger = new DeliveryLedger(db);
    const subs = await db.selectFrom('subscribers').select(['id', 'email']).orderBy('id').execute();
    await ledger.insertQueued(c.id, subs.map((s) => ({ subscriberId: s.id, email: s.email })));
    const [ok, unsub, inactive, suppressed, otherList, removed] = subs.map((s) => s.id) as [number, number, number, number, number, number];
    const now = Date.now();
    await db.updateTable('list_members').set({ status: 'unsubscribed' }).where('subscriber_id', '=', unsub).execute();
    await db.updateTable('subscribers').set({ status: 'bounced' }).where('id', '=', inactive).execute();
    await db.insertInto('suppressions').values({ email: subs[3]!.email, reason: 'complained', detail: null, created_at: now }).execute();
    const other = await db.insertInto('lists').values({ name: 'other', created_at: now }).returning('id').executeTakeFirstOrThrow();
    await db.updateTable('list_members').set({ list_id: other.id }).where('subscriber_id', '=', otherList).execute();
    await db.deleteFrom('list_members').where('subscriber_id', '=', removed).execute();

    const audience = new AudienceRepository(db);
    if (batched) {
      const claimed = await ledger.claimManyIfMailable(c.id, [ok, unsub, inactive, suppressed, otherList, removed], listId, 'w1');
      expect([...claimed.keys()]).toEqual([ok]);
      expect(claimed.get(ok)?.email).toBe(subs[0]!.email);
    } else {
      for (const id of [ok, unsub, inactive, suppressed, otherList, removed]) {
        const claimed = await ledger.claimIfMailable(c.id, id, listId, 'w1');
        expect(claimed !== null).toBe(await audience.isMailable(id, listId));
      }
    }
    const first = await ledger.get(c.id, ok);
    expect(first?.status).toBe('sending');
    expect(first?.claimed_by).toBe('w1');
    // Already claimed: a second claim (any worker) loses.
    expect(await ledger.claimIfMailable(c.id, ok, listId, 'w2')).toBeNull();
    // The misses were not claimed: they are still queued for the fallback path (claim → skipped).
    for (const id of [unsub, inactive, suppressed, otherList, removed]) {
      const row = await ledger.get(c.id, id);
      expect(row?.status).toBe('queued');
      expect(row?.claimed_by).toBeNull();
    }
    const claimed = await ledger.claimIfMailable(c.id, ok, listId, 'w2');
    expect(claimed).toBeNull();
    expect((await ledger.claim(c.id, unsub, 'w1'))?.email).toBe(subs[1]!.email);
  });
});
