import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface SubscriberAction {
  type: 'subscribe' | 'unsubscribe' | 'resubscribe' | 'sunset';
  subtype: string;
  subscriberId: number;
  listId: number;
  email: string | null;
  campaignId?: number | null;
  /**
   * Dedupe key (the events table's sns_message_id). Default: type, list, subscriber and
   * instant, so the same action at the same instant is stored once.
   */
  key?: string;
}

/**
 * Actions a subscriber took themselves (confirmed sign-up, one-click unsubscribe,
 * resubscribe), logged in the event log beside the SES events.
 */
export class SubscriberActionLog {
  constructor(private readonly db: Kysely<Database>) {}

  async record(action: SubscriberAction, at: number): Promise<void> {
    await this.db
      .insertInto('events')
      .values({
        sns_message_id: action.key ?? `${action.type}:${action.listId}:${action.subscriberId}:${at}`,
        type: action.type,
        subtype: action.subtype,
        ses_message_id: null,
        email: action.email,
        campaign_id: action.campaignId ?? null,
        subscriber_id: action.subscriberId,
        detail: `list ${action.listId}`,
        occurred_at: at,
        payload: '{}',
        created_at: at,
      })
      .onConflict((oc) => oc.column('sns_message_id').doNothing())
      .execute();
  }

  /** The latest campaign on this list that mailed the subscriber (what an unsubscribe is attributed to), or null. */
  async latestCampaignOnList(subscriberId: number, listId: number): Promise<number | null> {
    const row = await this.db
      .selectFrom('deliveries as d')
      .innerJoin('campaigns as c', 'c.id', 'd.campaign_id')
      .select('d.campaign_id')
      .where('d.subscriber_id', '=', subscriberId)
      .where('c.list_id', '=', listId)
      .orderBy('d.campaign_id', 'desc')
      .executeTakeFirst();
    return row?.campaign_id ?? null;
  }
}
