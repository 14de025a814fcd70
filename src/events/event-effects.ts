/**
 * What an SES event does to the ledger, the subscriber, the suppression list and the
 * campaign: a pure decision, `decideEffects(event, facts) → Effect[]`. The store's event
 * writer (src/store/event-writer.ts) asks it for each event it stored and executes the
 * effects in the same transaction; it holds no rule of its own. Built on the bounce
 * policy (bounce-policy.ts) and the reputation breaker (reputation-breaker.ts).
 *
 * Effects name no row: a ledger effect acts on the event's ledger row (found by the writer
 * by SES message id, else by our campaign + subscriber tags), an address effect on the
 * event's recipient, and times come from the event. So the common decisions are constant
 * arrays: deciding a Delivery, Open or Click allocates nothing (the webhook's hot path).
 */
import type { DeliveryStatus, SubscriberStatus, SuppressionReason } from '../store/schema.js';
import { decideOutcome, isSoftBounce, transientWindowStart, type BouncePolicyConfig } from './bounce-policy.js';
import { decideBreaker, type BreakerConfig, type BreakerDecision, type CampaignOutcomeCounts } from './reputation-breaker.js';
import { classifyEngagement, trapLinkFor, type EngagementConfig, type EngagementDecision } from './engagement-class.js';
import { providerOfEmail, type MailboxProvider } from './mailbox-provider.js';
import type { SesEvent } from './ses-notification.js';

export type EventsConfig = BouncePolicyConfig &
  BreakerConfig & {
    /** The hidden trap link is PUBLIC_URL + TRAP_LINK_PATH (engagement-class.ts). */
    PUBLIC_URL?: string;
    SCANNER_CLICK_WINDOW_S?: number;
  };

/** The per-campaign, per-provider counters (campaign_provider_counts.kind). */
export type ProviderCounter = 'bounce' | 'soft_bounce' | 'complaint' | 'delay';

/** Outcomes SES reports for a message, in rising precedence. */
export type LedgerOutcome = 'delivered' | 'bounced' | 'complained';
/** Statuses an event may give a subscriber, in rising precedence after 'active'. */
export type EventSubscriberStatus = 'unsubscribed' | 'bounced' | 'complained';

export type Effect =
  /** Move the ledger row to an outcome, never backwards (LEDGER_MOVABLE_FROM). */
  | { kind: 'moveLedger'; to: LedgerOutcome }
  /** SES refused the message (reject, rendering failure): the row failed, unless an outcome is known. */
  | { kind: 'failLedger'; error: string }
  /** SES accepted the message: a row left 'sending' (by a dead worker) becomes 'sent'. */
  | { kind: 'confirmSend' }
  /** First open / first click time, kept once. */
  | { kind: 'markOpened' }
  | { kind: 'markClicked' }
  /**
   * Add an open's / click's class to its recipient's engagement mark for the campaign, counting
   * the recipient under its new mark (engagement-marks.ts); with or without a ledger row, as the
   * stats' per-message grouping of the events counts it.
   */
  | { kind: 'markEngagement'; campaignId: number }
  /** Subscriber status by address, never backwards (SUBSCRIBER_REPLACEABLE). */
  | { kind: 'setSubscriberStatus'; status: EventSubscriberStatus; reason: string }
  /** Add the address to the suppression list (the first reason stays). */
  | { kind: 'suppress'; reason: SuppressionReason; detail: string }
  /** Count a bounce / soft bounce / complaint / delay for the campaign, the recipient's provider and the SMTP status ('' if none). */
  | { kind: 'countProvider'; campaignId: number; provider: MailboxProvider; counter: ProviderCounter; smtpStatus: string }
  /** Re-evaluate the reputation breaker of this campaign once the notification is stored. */
  | { kind: 'checkBreaker'; campaignId: number };

/** What the store knows when it asks for an event's effects. */
export interface EventFacts {
  /** The event's ledger row exists. */
  ledgerFound: boolean;
  /** The event's campaign: the ledger row's, else the message tag's. */
  campaignId: number | null;
  /** Soft bounces of the address since `softBouncesSince(event)`, this one included; 0 when that is null. */
  recentSoftBounces: number;
}

/**
 * Ledger precedence: complained > bounced > delivered > sent (events arrive out of order,
 * and a late Delivery must not undo a complaint). The statuses each outcome may replace;
 * the store compiles these into its conditional updates, so "never backwards" holds even
 * when two transactions race.
 */
export const LEDGER_MOVABLE_FROM: Readonly<Record<LedgerOutcome | 'failed', readonly DeliveryStatus[]>> = {
  delivered: ['sending', 'sent'],
  bounced: ['sending', 'sent', 'delivered'],
  complained: ['sending', 'sent', 'delivered', 'bounced'],
  failed: ['sending', 'sent'],
};

/**
 * Subscriber precedence: complained > bounced > unsubscribed > sunset > active. The statuses
 * each may replace. `sunset` (no human engagement lately, set by `subscribers inactive
 * --suppress`) is ours, not the reader's: anything the reader or their mailbox says wins.
 */
export const SUBSCRIBER_REPLACEABLE: Readonly<Record<EventSubscriberStatus, readonly SubscriberStatus[]>> = {
  complained: ['active', 'sunset', 'unsubscribed', 'bounced'],
  bounced: ['active', 'sunset', 'unsubscribed'],
  unsubscribed: ['active', 'sunset'],
};

const providerCount = (event: SesEvent, campaignId: number, counter: ProviderCounter): Effect => ({
  kind: 'countProvider',
  campaignId,
  provider: providerOfEmail(event.email),
  counter,
  smtpStatus: event.smtpStatus ?? '',
});

const NONE: readonly Effect[] = Object.freeze([]);
const DELIVERED: readonly Effect[] = Object.freeze([{ kind: 'moveLedger', to: 'delivered' }]);
const CONFIRM_SEND: readonly Effect[] = Object.freeze([{ kind: 'confirmSend' }]);
const OPENED: readonly Effect[] = Object.freeze([{ kind: 'markOpened' }]);
const CLICKED: readonly Effect[] = Object.freeze([{ kind: 'markClicked' }]);
const SES_UNSUBSCRIBE: readonly Effect[] = Object.freeze([
  { kind: 'setSubscriberStatus', status: 'unsubscribed', reason: 'unsubscribed through SES subscription management' },
]);

/**
 * When the decision for `event` needs the address's recent soft bounces: the start of the
 * counting window, or null (then `facts.recentSoftBounces` is not read and may be 0).
 */
export function softBouncesSince(event: SesEvent, config: BouncePolicyConfig): number | null {
  return isSoftBounce(event) && event.email ? transientWindowStart(event.occurredAt, config) : null;
}

export function decideEffects(event: SesEvent, facts: EventFacts, config: BouncePolicyConfig): readonly Effect[] {
  switch (event.type) {
    case 'bounce':
    case 'complaint': {
      const outcome = decideOutcome(event, facts.recentSoftBounces, config);
      // A soft bounce under the limit changes nothing but its provider's counter.
      if (outcome.ledgerStatus === null) return facts.campaignId !== null && event.type === 'bounce' ? [providerCount(event, facts.campaignId, 'soft_bounce')] : NONE;
      const effects: Effect[] = [];
      if (facts.ledgerFound) effects.push({ kind: 'moveLedger', to: outcome.ledgerStatus });
      if (event.email) {
        if (outcome.subscriberStatus) effects.push({ kind: 'setSubscriberStatus', status: outcome.subscriberStatus, reason: outcome.reason });
        if (outcome.suppress) effects.push({ kind: 'suppress', reason: outcome.suppress, detail: outcome.reason });
      }
      // Only a bounce or complaint that counts changes the campaign's rates.
      if (facts.campaignId !== null) {
        effects.push(providerCount(event, facts.campaignId, outcome.ledgerStatus === 'complained' ? 'complaint' : 'bounce'));
        effects.push({ kind: 'checkBreaker', campaignId: facts.campaignId });
      }
      return effects;
    }
    case 'delivery':
      return facts.ledgerFound ? DELIVERED : NONE;
    case 'reject':
    case 'rendering_failure':
      return facts.ledgerFound ? [{ kind: 'failLedger', error: `${event.type}: ${event.detail ?? ''}`.slice(0, 500) }] : NONE;
    case 'send':
      return facts.ledgerFound ? CONFIRM_SEND : NONE;
    case 'open':
    case 'click': {
      const first = event.type === 'open' ? OPENED : CLICKED;
      const mark: Effect[] = facts.campaignId !== null ? [{ kind: 'markEngagement', campaignId: facts.campaignId }] : [];
      return facts.ledgerFound ? [...first, ...mark] : mark;
    }
    case 'delivery_delay':
      // Deferrals (Gmail's 4.7.x, Microsoft's throttling): counted per provider, no other effect.
      return facts.campaignId !== null ? [providerCount(event, facts.campaignId, 'delay')] : NONE;
    case 'subscription':
      // SES-managed unsubscribe (List-Unsubscribe handled by SES): honour an opt-out of everything.
      return event.unsubscribeAll && event.email ? SES_UNSUBSCRIBE : NONE;
    default:
      // other: stored for the record, no effect.
      return NONE;
  }
}

/** True when the whole effect of an event is moving its ledger row to 'delivered' (the store may fuse that with the insert). */
export function isDeliveredOnly(effects: readonly Effect[]): boolean {
  const [only] = effects;
  return effects.length === 1 && only?.kind === 'moveLedger' && only.to === 'delivered';
}

/** What the store knows when it asks whether an open or click was a person's. */
export interface EngagementFacts {
  /** When the message was delivered (its Delivery event), null when not known yet. */
  deliveredAt: number | null;
  /** Other clicks of the same message already stored (empty for opens). */
  otherClicks: ReadonlyArray<{ link: string | null; at: number }>;
}

/** Whether an open or click was human (engagement-class.ts) from the event and what the store knows. */
export function classifyEvent(event: SesEvent, facts: EngagementFacts, config: EngagementConfig): EngagementDecision {
  return classifyEngagement(
    {
      type: event.type === 'click' ? 'click' : 'open',
      userAgent: event.userAgent ?? null,
      ipAddress: event.ipAddress ?? null,
      link: event.type === 'click' ? event.detail : null,
      sesAutomated: event.sesAutomated === true,
      at: event.occurredAt,
      deliveredAt: facts.deliveredAt ?? event.sentAt ?? null,
      otherClicks: facts.otherClicks,
    },
    config,
  );
}

export function engagementConfig(config: Pick<EventsConfig, 'PUBLIC_URL' | 'SCANNER_CLICK_WINDOW_S'>): EngagementConfig {
  return {
    trapLinks: [trapLinkFor(config.PUBLIC_URL ?? 'http://localhost:3000')],
    scannerClickWindowMs: (config.SCANNER_CLICK_WINDOW_S ?? 10) * 1000,
  };
}

/** The rules as the store's event writer asks for them, bound to a configuration. */
export interface EventRules {
  /** Non-null only for an event with an address (the store counts that address's soft bounces). */
  softBouncesSince(event: SesEvent): number | null;
  decide(event: SesEvent, facts: EventFacts): readonly Effect[];
  /** Opens and clicks only: human, machine or unknown. */
  classify(event: SesEvent, facts: EngagementFacts): EngagementDecision;
  breaker(counts: CampaignOutcomeCounts): BreakerDecision;
}

export function eventRules(config: EventsConfig): EventRules {
  const engagement = engagementConfig(config);
  return {
    softBouncesSince: (event) => softBouncesSince(event, config),
    decide: (event, facts) => decideEffects(event, facts, config),
    classify: (event, facts) => classifyEvent(event, facts, engagement),
    breaker: (counts) => decideBreaker(counts, config),
  };
}
