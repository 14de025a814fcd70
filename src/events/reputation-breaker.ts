/**
 * Reputation breaker: pause a campaign on our own before SES (5% bounces, 0.1%
 * complaints) or mailbox providers (0.3% complaints) act against the account, and before
 * one mailbox provider's refusals (hidden in the campaign-wide average) grow. Pure.
 */
import type { MailboxProvider } from './mailbox-provider.js';

export interface BreakerConfig {
  BOUNCE_RATE_LIMIT: number;
  COMPLAINT_RATE_LIMIT: number;
  BREAKER_MIN_DELIVERIES: number;
  /** Per provider; absent (older callers): no per-provider check. */
  BREAKER_PROVIDER_BOUNCE_RATE?: number;
  BREAKER_PROVIDER_COMPLAINT_RATE?: number;
  BREAKER_PROVIDER_MIN_SENT?: number;
}

export interface OutcomeCounts {
  /** Messages SES accepted (sent, delivered, bounced or complained). */
  sent: number;
  bounced: number;
  complained: number;
}

export interface ProviderOutcomeCounts extends OutcomeCounts {
  /** The most frequent SMTP status among its bounces (`5.7.515`), null if none was reported. */
  topBounceStatus?: string | null;
}

export interface CampaignOutcomeCounts extends OutcomeCounts {
  /** The same counts per mailbox provider (absent: no per-provider check). */
  providers?: Partial<Record<MailboxProvider, ProviderOutcomeCounts>>;
}

export type BreakerDecision = { trip: false } | { trip: true; scope: 'campaign' | 'provider'; provider?: MailboxProvider; reason: string };

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function decideBreaker(counts: CampaignOutcomeCounts, config: BreakerConfig): BreakerDecision {
  const campaign = decideCampaign(counts, config);
  if (campaign.trip) return campaign;
  return decideProviders(counts, config);
}

function decideCampaign(counts: OutcomeCounts, config: BreakerConfig): BreakerDecision {
  if (counts.sent < config.BREAKER_MIN_DELIVERIES || counts.sent <= 0) return { trip: false };
  const complaintRate = counts.complained / counts.sent;
  if (complaintRate >= config.COMPLAINT_RATE_LIMIT) {
    return {
      trip: true,
      scope: 'campaign',
      reason: `complaint rate ${pct(complaintRate)} (${counts.complained}/${counts.sent}) reached the limit ${pct(config.COMPLAINT_RATE_LIMIT)}`,
    };
  }
  const bounceRate = counts.bounced / counts.sent;
  if (bounceRate >= config.BOUNCE_RATE_LIMIT) {
    return {
      trip: true,
      scope: 'campaign',
      reason: `bounce rate ${pct(bounceRate)} (${counts.bounced}/${counts.sent}) reached the limit ${pct(config.BOUNCE_RATE_LIMIT)}`,
    };
  }
  return { trip: false };
}

/**
 * One provider at a time (`other` is many providers, left to the campaign-wide check); the
 * worst rate relative to its limit wins, so the reason names the provider most at fault.
 */
function decideProviders(counts: CampaignOutcomeCounts, config: BreakerConfig): BreakerDecision {
  const bounceLimit = config.BREAKER_PROVIDER_BOUNCE_RATE;
  const complaintLimit = config.BREAKER_PROVIDER_COMPLAINT_RATE;
  const minSent = config.BREAKER_PROVIDER_MIN_SENT ?? Infinity;
  if (!counts.providers || (bounceLimit === undefined && complaintLimit === undefined)) return { trip: false };
  let worst: { provider: MailboxProvider; severity: number; reason: string } | null = null;
  for (const [name, c] of Object.entries(counts.providers) as Array<[MailboxProvider, ProviderOutcomeCounts]>) {
    if (name === 'other' || !c || c.sent < minSent || c.sent <= 0) continue;
    const checks: Array<[string, number, number | undefined, string]> = [
      ['complaint', c.complained, complaintLimit, ''],
      ['bounce', c.bounced, bounceLimit, c.topBounceStatus ? `; most frequent SMTP status ${c.topBounceStatus}` : ''],
    ];
    for (const [what, n, limit, extra] of checks) {
      if (limit === undefined || limit <= 0) continue;
      const rate = n / c.sent;
      if (rate < limit) continue;
      const severity = rate / limit;
      if (!worst || severity > worst.severity) {
        worst = { provider: name, severity, reason: `${name} ${what} rate ${pct(rate)} (${n}/${c.sent}) reached the per-provider limit ${pct(limit)}${extra}` };
      }
    }
  }
  return worst ? { trip: true, scope: 'provider', provider: worst.provider, reason: worst.reason } : { trip: false };
}
