/**
 * Applying an unsubscribe for a verified token claim (subscriber + list). The token
 * itself proves who asked (src/unsubscribe/token.ts); this only touches the store.
 * Idempotent: a second unsubscribe changes nothing and reports 'already'.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { SubscribersRepository } from '../store/subscribers-repository.js';
import type { UnsubscribeClaim } from './token.js';
import { logSubscriberAction } from '../store/subscriber-action-log.js';

export type UnsubscribeResult = 'unsubscribed' | 'already' | 'unknown';

export interface UnsubscribeTarget {
  email: string;
  listName: string;
  membership: 'subscribed' | 'unsubscribed';
}

/** The subscriber and list a claim names, or null if either (or the membership) is gone. */
export async function findUnsubscribeTarget(db: Kysely<Database>, claim: UnsubscribeClaim): Promise<UnsubscribeTarget | null> {
  const row = await db
    .selectFrom('list_members as m')
    .innerJoin('subscribers as s', 's.id', 'm.subscriber_id')
    .innerJoin('lists as l', 'l.id', 'm.list_id')
    .select(['s.email as email', 'l.name as listName', 'm.status as membership'])
    .where('m.list_id', '=', claim.listId)
    .where('m.subscriber_id', '=', claim.subscriberId)
    .executeTakeFirst();
  return row ?? null;
}

/**
 * Unsubscribe the subscriber from the list at once. The membership flip is a conditional
 * update, so of two concurrent clicks exactly one logs an `unsubscribe` event (attributed
 * to the subscriber's latest campaign on that list). The subscriber's status then follows
 * the store's rule (SubscribersRepository.unsubscribe: 'unsubscribed' unless bounced or
 * complained), which is idempotent.
 */
export async function unsubscribeMember(db: Kysely<Database>, claim: UnsubscribeClaim, now: number = Date.now()): Promise<UnsubscribeResult> {
  const result = await db.transaction().execute(async (trx): Promise<UnsubscribeResult> => {
    const changed = await trx
      .updateTable('list_members')
      .set({ status: 'unsubscribed', updated_at: now })
      .where('list_id', '=', claim.listId)
      .where('subscriber_id', '=', claim.subscriberId)
      .where('status', '=', 'subscribed')
      .executeTakeFirst();
    if (Number(changed.numUpdatedRows) === 0) {
      const exists = await trx
        .selectFrom('list_members')
        .select('status')
        .where('list_id', '=', claim.listId)
        .where('subscriber_id', '=', claim.subscriberId)
        .executeTakeFirst();
      return exists ? 'already' : 'unknown';
    }
    const subscriber = await trx.selectFrom('subscribers').select('email').where('id', '=', claim.subscriberId).executeTakeFirst();
    const lastDelivery = await trx
      .selectFrom('deliveries as d')
      .innerJoin('campaigns as c', 'c.id', 'd.campaign_id')
      .select('d.campaign_id')
      .where('d.subscriber_id', '=', claim.subscriberId)
      .where('c.list_id', '=', claim.listId)
      .orderBy('d.campaign_id', 'desc')
      .executeTakeFirst();
    await logSubscriberAction(
      trx,
      { type: 'unsubscribe', subtype: 'one-click', subscriberId: claim.subscriberId, listId: claim.listId, email: subscriber?.email ?? null, campaignId: lastDelivery?.campaign_id ?? null },
      now,
    );
    return 'unsubscribed';
  });
  if (result !== 'unknown') await new SubscribersRepository(db, () => now).unsubscribe(claim.subscriberId, claim.listId, 'one-click unsubscribe');
  return result;
}
