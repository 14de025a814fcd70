/**
 * A campaign's engagement split by who engaged (human / machine / unknown, decided per
 * event by src/events/engagement-class.ts) and its health per mailbox provider
 * (src/events/mailbox-provider.ts), derived by pure functions from stored counts so the
 * CLI, the API and the dashboard agree.
 */
import { MAILBOX_PROVIDERS, type MailboxProvider } from '../events/mailbox-provider.js';

/** Messages with the same opens and clicks, as flags of the classes seen (from the events table), and how many (`n`). */
export interface MessageEngagement {
  n: number;
  humanOpen: boolean;
  machineOpen: boolean;
  anyOpen: boolean;
  humanClick: boolean;
  machineClick: boolean;
  anyClick: boolean;
}

/**
 * Unique messages per class; each message is counted in exactly one of human / machine /
 * unknown: human if any open or click of it was a person's (a human click implies a human
 * open), else machine if any was a machine's, else unknown. So the three never overlap.
 */
export interface EngagementFigures {
  opened_human: number;
  opened_machine: number;
  opened_unknown: number;
  clicked_human: number;
  clicked_machine: number;
  clicked_unknown: number;
  /** clicked_human / opened_human (0 when nobody opened). */
  click_to_open_human: number;
}

export function deriveEngagement(messages: Iterable<MessageEngagement>): EngagementFigures {
  const f: EngagementFigures = { opened_human: 0, opened_machine: 0, opened_unknown: 0, clicked_human: 0, clicked_machine: 0, clicked_unknown: 0, click_to_open_human: 0 };
  for (const m of messages) {
    if (!m.anyOpen && !m.anyClick) continue;
    if (m.humanOpen || m.humanClick) f.opened_human += m.n;
    else if (m.machineOpen || m.machineClick) f.opened_machine += m.n;
    else f.opened_unknown += m.n;
    if (!m.anyClick) continue;
    if (m.humanClick) f.clicked_human += m.n;
    else if (m.machineClick) f.clicked_machine += m.n;
    else f.clicked_unknown += m.n;
  }
  f.click_to_open_human = f.opened_human > 0 ? Math.round((f.clicked_human / f.opened_human) * 10_000) / 10_000 : 0;
  return f;
}

/** Stored counts for one provider: ledger rows by outcome and the event counters. */
export interface ProviderCounts {
  provider: MailboxProvider;
  /** Accepted by SES (sent, delivered, bounced, complained rows). */
  sent: number;
  delivered: number;
  bounced: number;
  complained: number;
  /** Soft bounces under the limit (not counted as bounced yet). */
  soft_bounces: number;
  /** DeliveryDelay events. */
  deferred: number;
  /** SMTP statuses of bounces, soft bounces and delays, most frequent first. */
  statuses: Array<{ status: string; n: number }>;
}

export interface ProviderFigures extends ProviderCounts {
  bounce_rate: number;
  complaint_rate: number;
  deferral_rate: number;
  /** The most frequent SMTP status reported for this provider, null if none. */
  top_status: string | null;
}

const rate = (n: number, d: number) => (d > 0 ? Math.round((n / d) * 10_000) / 10_000 : 0);

/** Every provider of the fixed set that has any count, in the set's order. */
export function deriveProviders(rows: Iterable<ProviderCounts>): Partial<Record<MailboxProvider, ProviderFigures>> {
  const byName = new Map<MailboxProvider, ProviderCounts>();
  for (const r of rows) byName.set(r.provider, r);
  const out: Partial<Record<MailboxProvider, ProviderFigures>> = {};
  for (const p of MAILBOX_PROVIDERS) {
    const r = byName.get(p);
    if (!r || r.sent + r.soft_bounces + r.deferred + r.bounced + r.complained === 0) continue;
    out[p] = {
      ...r,
      statuses: r.statuses.slice(0, 5),
      bounce_rate: rate(r.bounced, r.sent),
      complaint_rate: rate(r.complained, r.sent),
      deferral_rate: rate(r.deferred, r.sent),
      top_status: r.statuses[0]?.status ?? null,
    };
  }
  return out;
}

/** Per link: every click by class (the dashboard's link table). */
export interface LinkEngagement {
  url: string;
  human: number;
  /** Distinct subscribers whose human click it was. */
  human_unique: number;
  machine: number;
  unknown: number;
}

export interface CampaignHealthSource {
  messageEngagement(campaignId: number): Promise<MessageEngagement[]>;
  providerCounts(campaignId: number): Promise<ProviderCounts[]>;
}

export interface HealthFigures extends EngagementFigures {
  providers: Partial<Record<MailboxProvider, ProviderFigures>>;
}

export const NO_HEALTH: HealthFigures = { ...deriveEngagement([]), providers: {} };

export async function healthFigures(source: CampaignHealthSource | undefined, campaignId: number): Promise<HealthFigures> {
  if (!source) return NO_HEALTH;
  const [messages, providers] = await Promise.all([source.messageEngagement(campaignId), source.providerCounts(campaignId)]);
  return { ...deriveEngagement(messages), providers: deriveProviders(providers) };
}
