import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

/**
 * Log an action a subscriber took themselves (one-click unsubscribe, resubscribe) in the
 * event log beside the SES events, keyed so the same action at the same instant is stored once.
 */
export async function logSubscriberAction(
  db: Kysely<Database> | Transaction<Database>,
  action: { type: 'unsubscribe' | 'resubscribe'; subtype: string; subscriberId: number; listId: number; email: string | null; campaignId?: number | null },
  now: number,
): Promise<void> {
  await db
    .insertInto('events')
    .values({
      sns_message_id: `${action.type}:${action.listId}:${action.subscriberId}:${now}`,
      type: action.type,
      subtype: action.subtype,
      ses_message_id: null,
      email: action.email,
      campaign_id: action.campaignId ?? null,
      subscriber_id: action.subscriberId,
      detail: `list ${action.listId}`,
      occurred_at: now,
      payload: '{}',
      created_at: now,
    })
    .onConflict((oc) => oc.column('sns_message_id').doNothing())
    .execute();
}
