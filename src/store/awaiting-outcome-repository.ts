import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface SentDelivery {
  subscriberId: number;
  email: string;
  sesMessageId: string;
  sentAt: number | null;
}

/**
 * Ledger rows SES accepted whose outcome (delivery, bounce, complaint) has not been
 * applied yet. Read by the demo's notification feeder, which plays SES for them.
 */
export class AwaitingOutcomeRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async sentAwaitingOutcome(campaignId: number): Promise<SentDelivery[]> {
    const rows = await this.db
      .selectFrom('deliveries')
      .select(['subscriber_id', 'email', 'ses_message_id', 'sent_at'])
      .where('campaign_id', '=', campaignId)
      .where('ses_message_id', 'is not', null)
      // A row leaves 'sent' once the webhook applied its outcome.
      .where('status', '=', 'sent')
      .execute();
    return rows.map((r) => ({ subscriberId: Number(r.subscriber_id), email: r.email, sesMessageId: r.ses_message_id!, sentAt: r.sent_at === null ? null : Number(r.sent_at) }));
  }
}
