/**
 * The event log and the effects of SES events on the ledger, subscribers, suppressions
 * and campaigns. Idempotent by SNS MessageId: the first event row of a notification is
 * inserted with the MessageId itself, and every effect runs in the same transaction
 * only if that insert happened, so a replayed notification changes nothing.
 */
import type { Kysely } from 'kysely';
import { decideOutcome, isSoftBounce, transientWindowStart, type BouncePolicyConfig } from '../events/bounce-policy.js';
import { decideBreaker, type BreakerConfig } from '../events/reputation-breaker.js';
import type { SesEvent } from '../events/ses-notification.js';
import type { Database, DeliveryStatus, SubscriberStatus, SuppressionReason } from './schema.js';
import { SuppressionsRepository } from './suppressions-repository.js';

export type EventsConfig = BouncePolicyConfig & BreakerConfig;

export interface ApplyInput {
  snsMessageId: string;
  /** The SNS Message text, kept as the payload of every event row. */
  message: string;
  events: SesEvent[];
}

export interface ApplyResult {
  /** False when this SNS MessageId was seen before: nothing changed. */
  applied: boolean;
  /** Event rows written. */
  stored: number;
  /** Campaigns the reputation breaker paused because of this notification. */
  paused: Array<{ campaignId: number; reason: string }>;
}

type Db = Kysely<Database>;

interface LedgerKey {
  campaign_id: number;
  subscriber_id: number;
  status: DeliveryStatus;
  ses_message_id: string | null;
}

/** Statuses an outcome may move a ledger row from (precedence: complained > bounced > delivered > sent). */
const MOVABLE_TO: Record<'delivered' | 'bounced' | 'complained' | 'failed', DeliveryStatus[]> = {
  delivered: ['sending', 'sent'],
  bounced: ['sending', 'sent', 'delivered'],
  complained: ['sending', 'sent', 'delivered', 'bounced'],
  failed: ['sending', 'sent'],
};

/** Subscriber statuses a new status may replace (complained > bounced > unsubscribed > active). */
const SUBSCRIBER_MOVABLE_TO: Record<'complained' | 'bounced' | 'unsubscribed', SubscriberStatus[]> = {
  complained: ['active', 'unsubscribed', 'bounced'],
  bounced: ['active', 'unsubscribed'],
  unsubscribed: ['active'],
};

interface Pending {
  input: ApplyInput;
  now: number;
  resolve: (result: ApplyResult) => void;
  reject: (err: unknown) => void;
}

export class EventsRepository {
  private readonly queue: Pending[] = [];
  private draining = false;

  constructor(
    private readonly db: Db,
    private readonly config: EventsConfig,
    /** Most notifications applied in one transaction (group commit). */
    private readonly maxBatch = 100,
  ) {}

  /**
   * Store a notification's events and apply their effects, once per SNS MessageId.
   * Notifications arriving while a transaction runs are grouped into the next one:
   * one commit for many notifications is what makes thousands per second possible,
   * on SQLite (one writer) and on Postgres (one fsync per commit). A batch that fails
   * is retried one notification per transaction, so a bad one fails alone.
   */
  applyNotification(input: ApplyInput, now: number = Date.now()): Promise<ApplyResult> {
    return new Promise<ApplyResult>((resolve, reject) => {
      this.queue.push({ input, now, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        // Let already-received requests reach the queue first: with a synchronous driver
        // (better-sqlite3) a transaction never yields to I/O, so without this every batch is one.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const results = await this.db.transaction().execute(async (trx) => {
            const out: ApplyResult[] = [];
            for (const item of batch) out.push(await this.applyInTransaction(trx, item.input, item.now));
            return out;
          });
          batch.forEach((item, i) => item.resolve(results[i]!));
        } catch (err) {
          if (batch.length === 1) {
            batch[0]!.reject(err);
            continue;
          }
          for (const item of batch) {
            try {
              item.resolve(await this.db.transaction().execute((trx) => this.applyInTransaction(trx, item.input, item.now)));
            } catch (itemErr) {
              item.reject(itemErr);
            }
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async applyInTransaction(trx: Db, input: ApplyInput, now: number): Promise<ApplyResult> {
    const paused: ApplyResult['paused'] = [];
    const breakerCampaigns = new Set<number>();
    let stored = 0;
    for (const [i, event] of input.events.entries()) {
      const ledger = await findLedgerRow(trx, event);
      const campaignId = ledger?.campaign_id ?? event.campaignId;
      const subscriberId = ledger?.subscriber_id ?? event.subscriberId;
      const inserted = await trx
        .insertInto('events')
        .values({
          sns_message_id: i === 0 ? input.snsMessageId : `${input.snsMessageId}#${i}`,
          type: event.type,
          subtype: event.subtype,
          ses_message_id: event.sesMessageId,
          email: event.email,
          campaign_id: campaignId,
          subscriber_id: subscriberId,
          detail: event.detail,
          occurred_at: event.occurredAt,
          payload: input.message,
          created_at: now,
        })
        .onConflict((oc) => oc.column('sns_message_id').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) {
        // Replay: the first row is the gate, and nothing was written before it.
        if (i === 0) return { applied: false, stored: 0, paused: [] };
        continue;
      }
      stored++;
      const touched = await this.applyEvent(trx, event, ledger, now);
      if (touched && campaignId !== null && (event.type === 'bounce' || event.type === 'complaint')) {
        breakerCampaigns.add(campaignId);
      }
    }
    for (const campaignId of breakerCampaigns) {
      const reason = await this.checkBreaker(trx, campaignId, now);
      if (reason) paused.push({ campaignId, reason });
    }
    return { applied: true, stored, paused };
  }

  /** Apply one event; returns whether a ledger row or subscriber may have changed. */
  private async applyEvent(trx: Db, event: SesEvent, ledger: LedgerKey | undefined, now: number): Promise<boolean> {
    switch (event.type) {
      case 'bounce':
      case 'complaint': {
        let soft = 0;
        if (isSoftBounce(event) && event.email) {
          const row = await trx
            .selectFrom('events')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('email', '=', event.email)
            .where('type', '=', 'bounce')
            .where('subtype', '!=', 'Permanent')
            .where('occurred_at', '>=', transientWindowStart(event.occurredAt, this.config))
            .executeTakeFirst();
          soft = Number(row?.n ?? 0);
        }
        const outcome = decideOutcome(event, soft, this.config);
        if (outcome.ledgerStatus && ledger) {
          await moveLedger(trx, ledger, outcome.ledgerStatus, { outcome_at: event.occurredAt, updated_at: now }, event);
        }
        if (event.email) {
          if (outcome.subscriberStatus) await setSubscriberStatus(trx, event.email, outcome.subscriberStatus, outcome.reason, now);
          if (outcome.suppress) await suppress(trx, event.email, outcome.suppress, outcome.reason, now);
        }
        return outcome.ledgerStatus !== null;
      }
      case 'delivery':
        if (ledger) await moveLedger(trx, ledger, 'delivered', { outcome_at: event.occurredAt, updated_at: now }, event);
        return false;
      case 'reject':
      case 'rendering_failure':
        if (ledger) {
          await moveLedger(trx, ledger, 'failed', { last_error: `${event.type}: ${event.detail ?? ''}`.slice(0, 500), updated_at: now }, event);
        }
        return false;
      case 'send':
        if (ledger) await confirmSend(trx, ledger, event, now);
        return false;
      case 'open':
      case 'click': {
        if (!ledger) return false;
        const column = event.type === 'open' ? 'opened_at' : 'clicked_at';
        await trx
          .updateTable('deliveries')
          .set({ [column]: event.occurredAt, updated_at: now })
          .where('campaign_id', '=', ledger.campaign_id)
          .where('subscriber_id', '=', ledger.subscriber_id)
          .where(column, 'is', null)
          .execute();
        return false;
      }
      case 'subscription':
        // SES-managed unsubscribe (List-Unsubscribe handled by SES): honour an opt-out of everything.
        if (event.unsubscribeAll && event.email) {
          await setSubscriberStatus(trx, event.email, 'unsubscribed', 'unsubscribed through SES subscription management', now);
        }
        return false;
      default:
        return false;
    }
  }

  /** Evaluate the reputation breaker for a campaign; pause it (only from 'sending'). */
  private async checkBreaker(trx: Db, campaignId: number, now: number): Promise<string | null> {
    const rows = await trx
      .selectFrom('deliveries')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('campaign_id', '=', campaignId)
      .where('status', 'in', ['sent', 'delivered', 'bounced', 'complained'])
      .groupBy('status')
      .execute();
    const count = (s: DeliveryStatus) => Number(rows.find((r) => r.status === s)?.n ?? 0);
    const counts = {
      sent: rows.reduce((sum, r) => sum + Number(r.n), 0),
      bounced: count('bounced'),
      complained: count('complained'),
    };
    const decision = decideBreaker(counts, this.config);
    if (!decision.trip) return null;
    const result = await trx
      .updateTable('campaigns')
      .set({ status: 'paused', paused_reason: `reputation breaker: ${decision.reason}`, updated_at: now })
      .where('id', '=', campaignId)
      .where('status', '=', 'sending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0 ? decision.reason : null;
  }

  /* ---------------------------------------------------------------- read side */

  /** Clicks per link for a campaign (event rows keep the link). */
  async clicksPerLink(campaignId: number): Promise<Array<{ link: string; clicks: number; subscribers: number }>> {
    const rows = await this.db
      .selectFrom('events')
      .select((eb) => [
        'detail',
        eb.fn.countAll<number>().as('clicks'),
        eb.fn.count<number>('subscriber_id').distinct().as('subscribers'),
      ])
      .where('campaign_id', '=', campaignId)
      .where('type', '=', 'click')
      .where('detail', 'is not', null)
      .groupBy('detail')
      .orderBy('clicks', 'desc')
      .execute();
    return rows.map((r) => ({ link: r.detail!, clicks: Number(r.clicks), subscribers: Number(r.subscribers) }));
  }

  /** Event counts by type for a campaign. */
  async countsByType(campaignId: number): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom('events')
      .select(['type', (eb) => eb.fn.countAll<number>().as('n')])
      .where('campaign_id', '=', campaignId)
      .groupBy('type')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.type, Number(r.n)]));
  }
}

/** The ledger row for an event: by SES message id, else by our campaign + subscriber tags. */
async function findLedgerRow(trx: Db, event: SesEvent): Promise<LedgerKey | undefined> {
  if (event.sesMessageId) {
    const bySesId = await trx
      .selectFrom('deliveries')
      .select(['campaign_id', 'subscriber_id', 'status', 'ses_message_id'])
      .where('ses_message_id', '=', event.sesMessageId)
      .executeTakeFirst();
    if (bySesId) return bySesId;
  }
  if (event.campaignId !== null && event.subscriberId !== null) {
    return trx
      .selectFrom('deliveries')
      .select(['campaign_id', 'subscriber_id', 'status', 'ses_message_id'])
      .where('campaign_id', '=', event.campaignId)
      .where('subscriber_id', '=', event.subscriberId)
      .executeTakeFirst();
  }
  return undefined;
}

async function moveLedger(
  trx: Db,
  ledger: LedgerKey,
  to: 'delivered' | 'bounced' | 'complained' | 'failed',
  extra: { outcome_at?: number; last_error?: string; updated_at: number },
  event: SesEvent,
): Promise<void> {
  await trx
    .updateTable('deliveries')
    .set((eb) => ({
      status: to,
      ...extra,
      // A row found through its tags learns its SES message id here if it never did (dead worker).
      ses_message_id: eb.fn.coalesce('ses_message_id', eb.val(event.sesMessageId)),
    }))
    .where('campaign_id', '=', ledger.campaign_id)
    .where('subscriber_id', '=', ledger.subscriber_id)
    .where('status', 'in', MOVABLE_TO[to])
    .execute();
}

/**
 * SES's Send event confirms SES accepted the message. A row left 'sending' by a dead
 * worker becomes 'sent' with the message id, which is how the send pipeline's
 * reconciliation tells "sent but unrecorded" from "never sent".
 */
async function confirmSend(trx: Db, ledger: LedgerKey, event: SesEvent, now: number): Promise<void> {
  await trx
    .updateTable('deliveries')
    .set((eb) => ({
      confirmed_at: eb.fn.coalesce('confirmed_at', eb.val(event.occurredAt)),
      ses_message_id: eb.fn.coalesce('ses_message_id', eb.val(event.sesMessageId)),
      sent_at: eb.fn.coalesce('sent_at', eb.val(event.occurredAt)),
      status: eb.case().when('status', '=', 'sending').then('sent' as DeliveryStatus).else(eb.ref('status')).end(),
      updated_at: now,
    }))
    .where('campaign_id', '=', ledger.campaign_id)
    .where('subscriber_id', '=', ledger.subscriber_id)
    .execute();
}

/**
 * Subscriber status by address (applies even for mail we cannot tie to a ledger row).
 * Conditional, unlike SubscribersRepository.setStatusByEmail: events arrive out of order,
 * and a late bounce must not turn a complained subscriber back into a bounced one.
 */
async function setSubscriberStatus(
  trx: Db,
  email: string,
  status: 'complained' | 'bounced' | 'unsubscribed',
  reason: string,
  now: number,
): Promise<void> {
  await trx
    .updateTable('subscribers')
    .set({ status, status_reason: reason.slice(0, 500), updated_at: now })
    .where('email', '=', email)
    .where('status', 'in', SUBSCRIBER_MOVABLE_TO[status])
    .execute();
}

async function suppress(trx: Db, email: string, reason: SuppressionReason, detail: string, now: number): Promise<void> {
  // The store's rule: the first reason wins (a later complaint leaves an earlier 'bounced' as is).
  await new SuppressionsRepository(trx, () => now).suppress(email, reason, detail.slice(0, 500));
}
