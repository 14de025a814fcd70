/**
 * Campaign stats derived by a pure function from stored counts (as Ghost does), so the
 * CLI, the API and the dashboard agree and tests need no services.
 */
import type { CampaignStatus, DeliveryStatus } from '../store/schema.js';

export interface StatsInput {
  status: CampaignStatus;
  total: number;
  /** False while the fan-out has not counted the audience yet (`campaigns.total_known` 0); default true. */
  totalKnown?: boolean;
  startedAt: number | null;
  finishedAt: number | null;
  fanoutDone: boolean;
  byStatus: Partial<Record<DeliveryStatus, number>>;
  uncertain: number;
  opened: number;
  clicked: number;
  /** Ledger rows in existence (the fan-out adds them page by page). */
  rows: number;
  now: number;
}

export interface CampaignStats {
  status: CampaignStatus;
  total: number;
  /** Waiting to be sent: queued rows, rows in flight, and audience not fanned out yet. */
  queued: number;
  /** Accepted by SES (including those since delivered, bounced or complained). */
  sent: number;
  delivered: number;
  bounced: number;
  complained: number;
  /** Subscribers who left the list before their turn and were skipped. */
  unsubscribed: number;
  failed: number;
  opened: number;
  clicked: number;
  /** In flight with a worker that may have died; settled by SES's Send event or resent after UNCERTAIN_GRACE_S. */
  uncertain: number;
  cancelled: number;
  started_at: string | null;
  finished_at: string | null;
  /** Average messages per second since the start. */
  rate_per_s: number;
  /** Estimated completion time (ISO), null when done, paused or unknown. */
  eta: string | null;
}

const n = (v: number | undefined) => v ?? 0;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function deriveCampaignStats(input: StatsInput): CampaignStats {
  const s = input.byStatus;
  const delivered = n(s.delivered);
  const bounced = n(s.bounced);
  const complained = n(s.complained);
  const sent = n(s.sent) + delivered + bounced + complained;
  // Audience not counted yet (the first second or so of a send without a canary; the fan-out
  // fills it in): `total` reads the rows fanned out so far, a lower bound that only grows,
  // and the not-fanned-out part is unknown, so there is no ETA until the count lands.
  const counted = input.totalKnown !== false;
  const total = counted ? input.total : Math.max(input.total, input.rows);
  const notFannedOut = input.fanoutDone || input.status === 'cancelled' ? 0 : Math.max(0, total - input.rows);
  const queued = n(s.queued) + n(s.sending) + notFannedOut;
  const end = input.finishedAt ?? input.now;
  const elapsedS = input.startedAt === null ? 0 : Math.max(0.001, (end - input.startedAt) / 1000);
  const ratePerS = elapsedS > 0 ? sent / elapsedS : 0;
  const eta =
    input.status === 'sending' && counted && ratePerS > 0 && queued > 0 ? iso(input.now + Math.ceil((queued / ratePerS) * 1000)) : null;
  return {
    status: input.status,
    total,
    queued,
    sent,
    delivered,
    bounced,
    complained,
    unsubscribed: n(s.skipped),
    failed: n(s.failed),
    opened: input.opened,
    clicked: input.clicked,
    uncertain: input.uncertain,
    cancelled: n(s.cancelled),
    started_at: iso(input.startedAt),
    finished_at: iso(input.finishedAt),
    rate_per_s: Math.round(ratePerS * 100) / 100,
    eta,
  };
}
