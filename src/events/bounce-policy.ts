/**
 * What a bounce or complaint does to a subscriber and the ledger. Pure: the caller
 * supplies how many soft bounces this address had recently (including this one).
 * SES itself reviews accounts at 5% hard bounces, so a hard bounce must stop all
 * further mail to the address at once; soft bounces only after they repeat.
 */
import type { SuppressionReason } from '../store/schema.js';
import type { SesEvent } from './ses-notification.js';

export interface BouncePolicyConfig {
  TRANSIENT_BOUNCE_LIMIT: number;
  TRANSIENT_BOUNCE_WINDOW_DAYS: number;
}

export interface Outcome {
  /** New subscriber status, or null to leave it. */
  subscriberStatus: 'bounced' | 'complained' | null;
  /** Add the address to the suppression list with this reason, or null. */
  suppress: SuppressionReason | null;
  /** Ledger status for the delivery, or null to leave it. */
  ledgerStatus: 'bounced' | 'complained' | null;
  /** Human-readable why, for status_reason and suppression detail. */
  reason: string;
}

const NOTHING: Outcome = { subscriberStatus: null, suppress: null, ledgerStatus: null, reason: '' };

/** Soft bounces: Transient, and Undetermined (SES could not tell). */
export function isSoftBounce(event: Pick<SesEvent, 'type' | 'subtype'>): boolean {
  return event.type === 'bounce' && event.subtype !== 'Permanent';
}

/** Start of the window within which soft bounces are counted, for an event at `at`. */
export function transientWindowStart(at: number, config: BouncePolicyConfig): number {
  return at - config.TRANSIENT_BOUNCE_WINDOW_DAYS * 24 * 3600 * 1000;
}

export function decideOutcome(
  event: Pick<SesEvent, 'type' | 'subtype' | 'bounceSubType' | 'detail'>,
  recentSoftBounces: number,
  config: BouncePolicyConfig,
): Outcome {
  if (event.type === 'complaint') {
    return { subscriberStatus: 'complained', suppress: 'complained', ledgerStatus: 'complained', reason: `complaint${event.subtype ? ` (${event.subtype})` : ''}` };
  }
  if (event.type !== 'bounce') return NOTHING;
  if (event.subtype === 'Permanent') {
    const onAccountList = event.bounceSubType === 'OnAccountSuppressionList';
    return {
      subscriberStatus: 'bounced',
      suppress: onAccountList ? 'ses-suppression-list' : 'bounced',
      ledgerStatus: 'bounced',
      reason: `permanent bounce (${event.bounceSubType ?? 'General'})${event.detail ? `: ${event.detail}` : ''}`.slice(0, 500),
    };
  }
  if (recentSoftBounces >= config.TRANSIENT_BOUNCE_LIMIT) {
    return {
      subscriberStatus: 'bounced',
      suppress: 'bounced',
      ledgerStatus: 'bounced',
      reason: `${recentSoftBounces} soft bounces within ${config.TRANSIENT_BOUNCE_WINDOW_DAYS} days`,
    };
  }
  return NOTHING;
}
