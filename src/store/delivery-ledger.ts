/**
 * The delivery ledger: one row per (campaign, subscriber). The row, not the queue, is
 * the source of truth for "has this person been sent this issue": every transition is a
 * conditional UPDATE whose affected-row count tells the caller whether it won.
 */
import { sql, type Kysely } from 'kysely';
import type { Database, DeliveryStatus } from './schema.js';

export interface LedgerRecipient {
  subscriberId: number;
  email: string;
}

export interface ClaimedDelivery {
  campaignId: number;
  subscriberId: number;
  email: string;
  /** Subscriber's name now (null if none or the subscriber was removed). */
  name: string | null;
  attempts: number;
}

/** Row counts per status plus the engagement counters, as the stats derivation needs them. */
export interface LedgerCounts {
  byStatus: Partial<Record<DeliveryStatus, number>>;
  /** Rows 'sending' claimed before the uncertainty threshold and not confirmed by SES. */
  uncertain: number;
  opened: number;
  clicked: number;
  rows: number;
}

/** Statuses after which a row never changes because of the send pipeline. */
export const TERMINAL_STATUSES: readonly DeliveryStatus[] = [
  'sent',
  'failed',
  'delivered',
  'bounced',
  'complained',
  'skipped',
  'cancelled',
];

const INSERT_CHUNK = 500;

export class DeliveryLedger {
  constructor(private readonly db: Kysely<Database>) {}

  /** Insert rows 'queued'; rows that already exist (a fan-out page replayed) are left alone. */
  async insertQueued(campaignId: number, recipients: readonly LedgerRecipient[], now = Date.now()): Promise<void> {
    for (let i = 0; i < recipients.length; i += INSERT_CHUNK) {
      const chunk = recipients.slice(i, i + INSERT_CHUNK);
      await this.db
        .insertInto('deliveries')
        .values(
          chunk.map((r) => ({
            campaign_id: campaignId,
            subscriber_id: r.subscriberId,
            email: r.email,
            status: 'queued' as const,
            ses_message_id: null,
            last_error: null,
            claimed_by: null,
            claimed_at: null,
            sent_at: null,
            confirmed_at: null,
            outcome_at: null,
            opened_at: null,
            clicked_at: null,
            created_at: now,
            updated_at: now,
          })),
        )
        .onConflict((oc) => oc.columns(['campaign_id', 'subscriber_id']).doNothing())
        .execute();
    }
  }

  /**
   * Claim a row for sending: queued → sending, atomically. Returns the row if this caller
   * won, null if the row was not queued (already sent, claimed by another worker, skipped…).
   */
  async claim(campaignId: number, subscriberId: number, workerId: string, now = Date.now()): Promise<ClaimedDelivery | null> {
    // Hot path (once per message): one statement that claims and returns what the send
    // needs, as a raw template (Kysely still picks the dialect's placeholders).
    const result = await sql<{ email: string; attempts: number; name: string | null }>`
      UPDATE deliveries
      SET status = 'sending', claimed_by = ${workerId}, claimed_at = ${now}, attempts = attempts + 1, updated_at = ${now}
      WHERE campaign_id = ${campaignId} AND subscriber_id = ${subscriberId} AND status = 'queued'
        AND confirmed_at IS NULL
      RETURNING email, attempts, (SELECT name FROM subscribers WHERE subscribers.id = deliveries.subscriber_id) AS name`.execute(this.db);
    // confirmed_at IS NULL: SES confirmed an earlier attempt (its Send event arrived after
    // the row was requeued), so it must never be sent again.
    const row = result.rows[0];
    if (!row) return null;
    return { campaignId, subscriberId, email: row.email, name: row.name, attempts: Number(row.attempts) };
  }

  /**
   * The hot path's claim: `claim` and the audience re-check (AudienceRepository.isMailable:
   * subscribed membership of `listId`, active subscriber, address not suppressed) in ONE
   * statement. Null when the row was not claimable OR the subscriber is no longer mailable;
   * the caller tells the two apart on that rare miss with `claim` + `isMailable`.
   * Keep the EXISTS in step with AudienceRepository's filter.
   */
  async claimIfMailable(campaignId: number, subscriberId: number, listId: number, workerId: string, now = Date.now()): Promise<ClaimedDelivery | null> {
    const result = await sql<{ email: string; attempts: number; name: string | null }>`
      UPDATE deliveries
      SET status = 'sending', claimed_by = ${workerId}, claimed_at = ${now}, attempts = attempts + 1, updated_at = ${now}
      WHERE campaign_id = ${campaignId} AND subscriber_id = ${subscriberId} AND status = 'queued'
        AND confirmed_at IS NULL
        AND EXISTS (
          SELECT 1 FROM list_members m JOIN subscribers s ON s.id = m.subscriber_id
          WHERE m.list_id = ${listId} AND m.subscriber_id = deliveries.subscriber_id
            AND m.status = 'subscribed' AND s.status = 'active'
            AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.email = s.email))
      RETURNING email, attempts, (SELECT name FROM subscribers WHERE subscribers.id = deliveries.subscriber_id) AS name`.execute(this.db);
    const row = result.rows[0];
    if (!row) return null;
    return { campaignId, subscriberId, email: row.email, name: row.name, attempts: Number(row.attempts) };
  }

  /** sending → `to`, only if still held by this worker. True if the write happened. */
  private async settle(
    campaignId: number,
    subscriberId: number,
    workerId: string,
    patch: Partial<{ status: DeliveryStatus; ses_message_id: string; sent_at: number; last_error: string | null; claimed_by: null; claimed_at: null }>,
    now: number,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('deliveries')
      .set({ ...patch, updated_at: now })
      .where('campaign_id', '=', campaignId)
      .where('subscriber_id', '=', subscriberId)
      .where('status', '=', 'sending')
      .where('claimed_by', '=', workerId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** SES accepted the message. If an SES Send event already settled the row, only the id is filled in. */
  async markSent(campaignId: number, subscriberId: number, workerId: string, sesMessageId: string, now = Date.now()): Promise<boolean> {
    const result = await sql`
      UPDATE deliveries SET status = 'sent', ses_message_id = ${sesMessageId}, sent_at = ${now}, updated_at = ${now}
      WHERE campaign_id = ${campaignId} AND subscriber_id = ${subscriberId} AND status = 'sending' AND claimed_by = ${workerId}`.execute(this.db);
    const won = Number(result.numAffectedRows ?? 0) === 1;
    if (!won) {
      await this.db
        .updateTable('deliveries')
        .set({ ses_message_id: sesMessageId, sent_at: now, updated_at: now })
        .where('campaign_id', '=', campaignId)
        .where('subscriber_id', '=', subscriberId)
        .where('ses_message_id', 'is', null)
        .where('status', '!=', 'queued')
        .execute();
    }
    return won;
  }

  /**
   * `markSent` for many rows in one transaction (one commit instead of one per message).
   * Same conditional writes, row by row; returns, per input row, whether this worker won.
   */
  async markSentMany(rows: readonly { campaignId: number; subscriberId: number; workerId: string; sesMessageId: string; now: number }[]): Promise<boolean[]> {
    if (rows.length === 0) return [];
    return this.db.transaction().execute(async (trx) => {
      const ledger = new DeliveryLedger(trx);
      const won: boolean[] = [];
      for (const r of rows) won.push(await ledger.markSent(r.campaignId, r.subscriberId, r.workerId, r.sesMessageId, r.now));
      return won;
    });
  }

  /** Permanent failure for this row only (MessageRejected, invalid address…). */
  markFailed(campaignId: number, subscriberId: number, workerId: string, error: string, now = Date.now()): Promise<boolean> {
    return this.settle(campaignId, subscriberId, workerId, { status: 'failed', last_error: error.slice(0, 1000) }, now);
  }

  /** The subscriber left (unsubscribed, bounced, suppressed) before their turn. */
  markSkipped(campaignId: number, subscriberId: number, workerId: string, reason: string, now = Date.now()): Promise<boolean> {
    return this.settle(campaignId, subscriberId, workerId, { status: 'skipped', last_error: reason }, now);
  }

  /** Hand a claimed row back (throttled, paused, transient error): it will be sent later. */
  release(campaignId: number, subscriberId: number, workerId: string, error: string | null, now = Date.now()): Promise<boolean> {
    return this.settle(
      campaignId,
      subscriberId,
      workerId,
      { status: 'queued', claimed_by: null, claimed_at: null, last_error: error?.slice(0, 1000) ?? null },
      now,
    );
  }

  /** The reconciler's scan, every second in every worker: served by the partial index of migration 0004. */
  uncertainRows(olderThan: number, limit: number) {
    return this.db
      .selectFrom('deliveries')
      .select(['campaign_id', 'subscriber_id', 'claimed_at'])
      .where('status', '=', 'sending')
      .where('confirmed_at', 'is', null)
      .where('claimed_at', '<', olderThan)
      .limit(limit);
  }

  /**
   * Rows left 'sending' longer than the grace period without SES confirming them: their
   * worker died somewhere around the SES call. Requeue them (the caller re-adds their jobs).
   * Each row is requeued with a conditional update so two reconcilers cannot both win.
   */
  async requeueUncertain(olderThan: number, now = Date.now(), limit = 1000): Promise<{ campaignId: number; subscriberId: number }[]> {
    const rows = await this.uncertainRows(olderThan, limit).execute();
    const requeued: { campaignId: number; subscriberId: number }[] = [];
    for (const row of rows) {
      const result = await this.db
        .updateTable('deliveries')
        .set({ status: 'queued', claimed_by: null, claimed_at: null, last_error: 'requeued: unconfirmed after grace period', updated_at: now })
        .where('campaign_id', '=', row.campaign_id)
        .where('subscriber_id', '=', row.subscriber_id)
        .where('status', '=', 'sending')
        .where('confirmed_at', 'is', null)
        .where('claimed_at', '=', row.claimed_at)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1) requeued.push({ campaignId: row.campaign_id, subscriberId: row.subscriber_id });
    }
    return requeued;
  }

  /** Rows requeued before SES's late Send event confirmed them: they were sent; settle them. */
  async settleConfirmedQueued(campaignId: number, now = Date.now()): Promise<number> {
    const result = await this.db
      .updateTable('deliveries')
      .set({ status: 'sent', updated_at: now })
      .where('campaign_id', '=', campaignId)
      .where('status', '=', 'queued')
      .where('confirmed_at', 'is not', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Keyset page of a campaign's 'queued' rows (re-enqueue after resume or a lost Redis). */
  async queuedPage(campaignId: number, afterSubscriberId: number, limit: number, updatedBefore?: number): Promise<number[]> {
    let q = this.db
      .selectFrom('deliveries')
      .select('subscriber_id')
      .where('campaign_id', '=', campaignId)
      .where('status', '=', 'queued')
      .where('subscriber_id', '>', afterSubscriberId);
    if (updatedBefore !== undefined) q = q.where('updated_at', '<', updatedBefore);
    const rows = await q.orderBy('subscriber_id').limit(limit).execute();
    return rows.map((r) => r.subscriber_id);
  }

  /** Rows not yet terminal (queued or in flight). Zero plus a finished fan-out = campaign done. */
  async openCount(campaignId: number): Promise<number> {
    const row = await this.db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('campaign_id', '=', campaignId)
      .where('status', 'in', ['queued', 'sending'])
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Cancel every row that has not been sent; returns how many. */
  async cancelQueued(campaignId: number, now = Date.now()): Promise<number> {
    const result = await this.db
      .updateTable('deliveries')
      .set({ status: 'cancelled', updated_at: now })
      .where('campaign_id', '=', campaignId)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async counts(campaignId: number, uncertainBefore: number): Promise<LedgerCounts> {
    const rows = await this.db
      .selectFrom('deliveries')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('campaign_id', '=', campaignId)
      .groupBy('status')
      .execute();
    const byStatus: Partial<Record<DeliveryStatus, number>> = {};
    let total = 0;
    for (const r of rows) {
      byStatus[r.status] = Number(r.n);
      total += Number(r.n);
    }
    const extra = await this.db
      .selectFrom('deliveries')
      .select([
        sql<number>`sum(case when status = 'sending' and confirmed_at is null and claimed_at < ${uncertainBefore} then 1 else 0 end)`.as('uncertain'),
        sql<number>`sum(case when opened_at is not null then 1 else 0 end)`.as('opened'),
        sql<number>`sum(case when clicked_at is not null then 1 else 0 end)`.as('clicked'),
      ])
      .where('campaign_id', '=', campaignId)
      .executeTakeFirstOrThrow();
    return {
      byStatus,
      uncertain: Number(extra.uncertain ?? 0),
      opened: Number(extra.opened ?? 0),
      clicked: Number(extra.clicked ?? 0),
      rows: total,
    };
  }

  async get(campaignId: number, subscriberId: number) {
    return this.db
      .selectFrom('deliveries')
      .selectAll()
      .where('campaign_id', '=', campaignId)
      .where('subscriber_id', '=', subscriberId)
      .executeTakeFirst();
  }
}
