/**
 * Reputation breaker: pause a campaign on our own before SES (5% bounces, 0.1%
 * complaints) or mailbox providers (0.3% complaints) act against the account. Pure.
 */
export interface BreakerConfig {
  BOUNCE_RATE_LIMIT: number;
  COMPLAINT_RATE_LIMIT: number;
  BREAKER_MIN_DELIVERIES: number;
}

export interface CampaignOutcomeCounts {
  /** Messages SES accepted for the campaign (sent, delivered, bounced or complained). */
  sent: number;
  bounced: number;
  complained: number;
}

export type BreakerDecision = { trip: false } | { trip: true; reason: string };

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function decideBreaker(counts: CampaignOutcomeCounts, config: BreakerConfig): BreakerDecision {
  if (counts.sent < config.BREAKER_MIN_DELIVERIES || counts.sent <= 0) return { trip: false };
  const complaintRate = counts.complained / counts.sent;
  if (complaintRate >= config.COMPLAINT_RATE_LIMIT) {
    return {
      trip: true,
      reason: `complaint rate ${pct(complaintRate)} (${counts.complained}/${counts.sent}) reached the limit ${pct(config.COMPLAINT_RATE_LIMIT)}`,
    };
  }
  const bounceRate = counts.bounced / counts.sent;
  if (bounceRate >= config.BOUNCE_RATE_LIMIT) {
    return {
      trip: true,
      reason: `bounce rate ${pct(bounceRate)} (${counts.bounced}/${counts.sent}) reached the limit ${pct(config.BOUNCE_RATE_LIMIT)}`,
    };
  }
  return { trip: false };
}
