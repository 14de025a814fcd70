/**
 * The repository methods behind sign-up, confirmation, one-click unsubscribe, resubscribe
 * and the demo feeder, on both backends; and openRepositories().transaction, which those
 * units run in (all or nothing).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openRepositories, type StoreRepositories } from '../../src/store/repositories.js';
import { seedCampaign, seedDelivery, seedList, seedSubscriber } from '../support/seed.js';
import { BACKENDS, createTestStore, type TestStore } from '../support/store.js';

describe.each(BACKENDS)('reader-action repositories on %s', (dialect) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.drop();
    store = undefined;
  });

  async function setup(): Promise<{ repos: StoreRepositories; db: TestStore['db'] }> {
    store = await createTestStore(dialect);
    return { repos: openRepositories(store, () => 5_000), db: store.db };
  }

  it('sign-up requests: created, found with their list, claimed once, marked sent, expired', async () => {
    const { repos } = await setup();
    const list = await repos.lists.ensureList('Weekly');
    const id = await repos.signupRequests.create({ email: 'ada@example.com', name: 'Ada', listId: list.id, createdAt: 1000, expiresAt: 2000 });
    const other = await repos.signupRequests.create({ email: 'bob@example.com', name: null, listId: list.id, createdAt: 1500, expiresAt: 3000 });
    expect(await repos.signupRequests.find(id)).toEqual({
      id, email: 'ada@example.com', name: 'Ada', listId: list.id, listName: 'Weekly', expiresAt: 2000, mailSentAt: null, confirmedAt: null,
    });
    expect(await repos.signupRequests.find(id + other + 100)).toBeUndefined();

    await repos.signupRequests.markMailSent(id, 'ses-1', 1100);
    expect((await repos.signupRequests.find(id))?.mailSentAt).toBe(1100);

    expect(await repos.signupRequests.claimConfirmation(id, 1200)).toBe(true);
    expect(await repos.signupRequests.claimConfirmation(id, 1300)).toBe(false);
    expect((await repos.signupRequests.find(id))?.confirmedAt).toBe(1200);

    expect(await repos.signupRequests.deleteExpired(1999)).toBe(0);
    expect(await repos.signupRequests.deleteExpired(2000)).toBe(1);
    expect(await repos.signupRequests.find(id)).toBeUndefined();
    expect(await repos.signupRequests.find(other)).toBeDefined();
  });

  it('insertActiveIfMissing returns an existing row untouched; reactivate never overrides a bounce', async () => {
    const { repos } = await setup();
    const created = await repos.subscribers.insertActiveIfMissing('new@example.com', 'New', 'confirmed sign-up', 1000);
    expect(created).toMatchObject({ email: 'new@example.com', name: 'New', status: 'active', status_reason: 'confirmed sign-up', created_at: 1000 });

    await repos.subscribers.setStatusByEmail('new@example.com', 'bounced', 'Permanent');
    const again = await repos.subscribers.insertActiveIfMissing('new@example.com', 'Other', 'confirmed sign-up', 2000);
    expect(again).toMatchObject({ id: created.id, name: 'New', status: 'bounced', status_reason: 'Permanent' });
    await repos.subscribers.reactivate(created.id, 'resubscribed', 3000, 'Renamed');
    expect(await repos.subscribers.findById(created.id)).toMatchObject({ status: 'bounced', name: 'New' });

    const { subscriber: left } = await repos.subscribers.upsert({ email: 'left@example.com', name: 'Left' });
    await repos.subscribers.setStatusByEmail('left@example.com', 'unsubscribed', 'cli');
    await repos.subscribers.reactivate(left.id, 'resubscribed', 3000);
    expect(await repos.subscribers.findById(left.id)).toMatchObject({ status: 'active', status_reason: 'resubscribed', name: 'Left', updated_at: 3000 });
    await repos.subscribers.reactivate(left.id, 'confirmed sign-up', 4000, 'New Name');
    expect(await repos.subscribers.findById(left.id)).toMatchObject({ status: 'active', name: 'New Name' });
  });

  it('memberships: standing joins address, list and suppression; markUnsubscribed flips once; setSubscribed flips back', async () => {
    const { repos, db } = await setup();
    const listId = await seedList(db, 'Weekly');
    const ada = await seedSubscriber(db, 'ada@example.com', [listId]);
    const bob = await seedSubscriber(db, 'bob@example.com');

    expect(await repos.listMembers.standing(ada, listId)).toEqual({ email: 'ada@example.com', listName: 'Weekly', membership: 'subscribed', status: 'active', suppressed: false, updatedAt: expect.any(Number) });
    expect(await repos.listMembers.standing(bob, listId)).toBeUndefined();

    expect(await repos.listMembers.markUnsubscribed(ada, listId, 2000)).toBe(true);
    expect(await repos.listMembers.markUnsubscribed(ada, listId, 2001)).toBe(false);
    expect(await repos.listMembers.markUnsubscribed(bob, listId, 2002)).toBe(false);
    expect(await repos.listMembers.find(ada, listId)).toEqual({ status: 'unsubscribed', created_at: 1 });
    // The unsubscribe time stays put (the one-time resubscribe button is bound to it), also
    // through the subscriber-level unsubscribe that follows a one-click.
    expect((await repos.listMembers.standing(ada, listId))?.updatedAt).toBe(2000);
    await repos.subscribers.unsubscribe(ada, listId, 'one-click unsubscribe');
    expect((await repos.listMembers.standing(ada, listId))?.updatedAt).toBe(2000);

    await repos.listMembers.setSubscribed(ada, listId, 3000);
    await repos.listMembers.setSubscribed(bob, listId, 3000);
    expect(await repos.listMembers.find(ada, listId)).toEqual({ status: 'subscribed', created_at: 1 });
    expect(await repos.listMembers.find(bob, listId)).toEqual({ status: 'subscribed', created_at: 3000 });

    await repos.suppressions.suppress('BOB@example.com', 'complained');
    expect(await repos.listMembers.standing(bob, listId)).toMatchObject({ membership: 'subscribed', suppressed: true });
  });

  it('action log: one row per key; an unsubscribe is attributed to the latest campaign on that list', async () => {
    const { repos, db } = await setup();
    const weekly = await seedList(db, 'Weekly');
    const daily = await seedList(db, 'Daily');
    const ada = await seedSubscriber(db, 'ada@example.com', [weekly, daily]);
    expect(await repos.actionLog.latestCampaignOnList(ada, weekly)).toBeNull();
    const first = await seedCampaign(db, weekly, 'sent');
    const second = await seedCampaign(db, weekly, 'sent');
    const onDaily = await seedCampaign(db, daily, 'sent');
    for (const campaignId of [first, second, onDaily]) await seedDelivery(db, { campaignId, subscriberId: ada, email: 'ada@example.com', status: 'delivered' });
    expect(await repos.actionLog.latestCampaignOnList(ada, weekly)).toBe(second);
    expect(await repos.actionLog.latestCampaignOnList(ada, daily)).toBe(onDaily);

    const action = { type: 'unsubscribe' as const, subtype: 'one-click', subscriberId: ada, listId: weekly, email: 'ada@example.com', campaignId: second };
    await repos.actionLog.record(action, 7000);
    await repos.actionLog.record(action, 7000);
    await repos.actionLog.record({ ...action, type: 'subscribe', subtype: 'double-opt-in', campaignId: null, key: 'signup-confirm:9' }, 7000);
    await repos.actionLog.record({ ...action, type: 'subscribe', subtype: 'double-opt-in', campaignId: null, key: 'signup-confirm:9' }, 8000);
    const events = await db.selectFrom('events').select(['sns_message_id', 'type', 'subtype', 'campaign_id', 'subscriber_id', 'detail', 'occurred_at']).orderBy('id').execute();
    expect(events).toEqual([
      { sns_message_id: `unsubscribe:${weekly}:${ada}:7000`, type: 'unsubscribe', subtype: 'one-click', campaign_id: second, subscriber_id: ada, detail: `list ${weekly}`, occurred_at: 7000 },
      { sns_message_id: 'signup-confirm:9', type: 'subscribe', subtype: 'double-opt-in', campaign_id: null, subscriber_id: ada, detail: `list ${weekly}`, occurred_at: 7000 },
    ]);
  });

  it('awaiting outcome: only rows SES accepted whose outcome is not applied yet', async () => {
    const { repos, db } = await setup();
    const listId = await seedList(db, 'Weekly');
    const campaignId = await seedCampaign(db, listId);
    const otherCampaign = await seedCampaign(db, listId);
    const ids = await Promise.all(['a', 'b', 'c', 'd'].map((n) => seedSubscriber(db, `${n}@example.com`)));
    await seedDelivery(db, { campaignId, subscriberId: ids[0]!, email: 'a@example.com', status: 'sent', sesMessageId: 'm-a' });
    await seedDelivery(db, { campaignId, subscriberId: ids[1]!, email: 'b@example.com', status: 'delivered', sesMessageId: 'm-b' });
    await seedDelivery(db, { campaignId, subscriberId: ids[2]!, email: 'c@example.com', status: 'sending' });
    await seedDelivery(db, { campaignId: otherCampaign, subscriberId: ids[3]!, email: 'd@example.com', status: 'sent', sesMessageId: 'm-d' });
    expect(await repos.awaitingOutcome.sentAwaitingOutcome(campaignId)).toEqual([{ subscriberId: ids[0], email: 'a@example.com', sesMessageId: 'm-a', sentAt: 1 }]);
  });

  it('transaction: the unit commits together, and a failure leaves nothing behind', async () => {
    const { repos, db } = await setup();
    const listId = await seedList(db, 'Weekly');
    const ada = await seedSubscriber(db, 'ada@example.com', [listId]);

    await expect(
      repos.transaction(async (tx) => {
        expect(await tx.listMembers.markUnsubscribed(ada, listId, 2000)).toBe(true);
        await tx.actionLog.record({ type: 'unsubscribe', subtype: 'one-click', subscriberId: ada, listId, email: 'ada@example.com' }, 2000);
        throw new Error('crash mid-unit');
      }),
    ).rejects.toThrow('crash mid-unit');
    expect(await repos.listMembers.find(ada, listId)).toEqual({ status: 'subscribed', created_at: 1 });
    expect(await db.selectFrom('events').selectAll().execute()).toEqual([]);

    const result = await repos.transaction(async (tx) => {
      await tx.listMembers.markUnsubscribed(ada, listId, 2000);
      await tx.actionLog.record({ type: 'unsubscribe', subtype: 'one-click', subscriberId: ada, listId, email: 'ada@example.com' }, 2000);
      return 'done';
    });
    expect(result).toBe('done');
    expect(await repos.listMembers.find(ada, listId)).toEqual({ status: 'unsubscribed', created_at: 1 });
    // The unsubscribe time stays put (the one-time resubscribe button is bound to it), also
    // through the subscriber-level unsubscribe that follows a one-click.
    expect((await repos.listMembers.standing(ada, listId))?.updatedAt).toBe(2000);
    await repos.subscribers.unsubscribe(ada, listId, 'one-click unsubscribe');
    expect((await repos.listMembers.standing(ada, listId))?.updatedAt).toBe(2000);
    expect(await db.selectFrom('events').select('type').execute()).toEqual([{ type: 'unsubscribe' }]);
  });
});
