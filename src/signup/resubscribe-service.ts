/**
 * "I unsubscribed by mistake": put a reader back on the list from the unsubscribe page.
 * Only for addresses whose own status is active or unsubscribed and that are not
 * suppressed: a bounce or a complaint is a stronger signal than a click and stays.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { ResubscribeClaim } from './signed-links.js';
import { logSubscriberAction } from '../store/subscriber-action-log.js';

export type ResubscribeState = 'eligible' | 'subscribed' | 'refused' | 'unknown';

export async function resubscribeState(db: Kysely<Database>, claim: ResubscribeClaim): Promise<ResubscribeState> {
  const row = await db
    .selectFrom('list_members as m')
    .innerJoin('subscribers as s', 's.id', 'm.subscriber_id')
    .leftJoin('suppressions as x', 'x.email', 's.email')
    .select(['m.status as membership', 's.status as status', 'x.email as suppressed'])
    .where('m.list_id', '=', claim.listId)
    .where('m.subscriber_id', '=', claim.subscriberId)
    .executeTakeFirst();
  if (!row) return 'unknown';
  if (row.suppressed !== null || (row.status !== 'active' && row.status !== 'unsubscribed')) return 'refused';
  return row.membership === 'subscribed' && row.status === 'active' ? 'subscribed' : 'eligible';
}

export type ResubscribeResult = 'resubscribed' | 'already' | 'refused' | 'unknown';

export async function resubscribe(db: Kysely<Database>, claim: ResubscribeClaim, now: number): Promise<ResubscribeResult> {
  return db.transaction().execute(async (trx) => {
    const state = await resubscribeState(trx, claim);
    if (state === 'unknown' || state === 'refused') return state;
    if (state === 'subscribed') return 'already';
    await trx
      .updateTable('list_members')
      .set({ status: 'subscribed', updated_at: now })
      .where('list_id', '=', claim.listId)
      .where('subscriber_id', '=', claim.subscriberId)
      .execute();
    // Conditional: a bounce or complaint that landed meanwhile is never overwritten.
    await trx
      .updateTable('subscribers')
      .set({ status: 'active', status_reason: 'resubscribed from the unsubscribe page', updated_at: now })
      .where('id', '=', claim.subscriberId)
      .where('status', 'in', ['active', 'unsubscribed'])
      .execute();
    const subscriber = await trx.selectFrom('subscribers').select('email').where('id', '=', claim.subscriberId).executeTakeFirst();
    await logSubscriberAction(trx, { type: 'resubscribe', subtype: 'unsubscribe-page', subscriberId: claim.subscriberId, listId: claim.listId, email: subscriber?.email ?? null }, now);
    return 'resubscribed';
  });
}
