/**
 * How long the SNS MessageId replay gate must remember a MessageId. The gate is the unique
 * `events.sns_message_id` (src/store/event-writer.ts); the verifier refuses any message
 * whose Timestamp is older than SNS_MAX_AGE_S (src/events/sns-verify.ts), and SNS retries
 * keep the original Timestamp. So a MessageId needs remembering for SNS_MAX_AGE_S (plus
 * the future skew the verifier allows) and no longer; any job that deletes events rows
 * (retention) must not cut closer than that, and with no age bound it must not delete
 * them at all.
 */
import { SNS_MAX_FUTURE_SKEW_MS } from './sns-verify.js';

/** The shortest retention of events rows that keeps the replay gate whole; null = forever. */
export function minimumEventRetentionMs(snsMaxAgeS: number): number | null {
  if (snsMaxAgeS <= 0) return null;
  return snsMaxAgeS * 1000 + SNS_MAX_FUTURE_SKEW_MS;
}

/**
 * The cutoff a retention job may delete events rows before (created_at < cutoff): the one
 * it asked for, moved back so no row inside the replay window goes; null = delete none.
 */
export function clampEventsPruneCutoff(requestedCutoffMs: number, nowMs: number, snsMaxAgeS: number): number | null {
  const keep = minimumEventRetentionMs(snsMaxAgeS);
  if (keep === null) return null;
  return Math.min(requestedCutoffMs, nowMs - keep);
}
