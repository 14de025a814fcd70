/**
 * What the dashboard's campaign page shows: the time series for the chart, the most
 * clicked links and the latest bounces and complaints. The rows come from the store's
 * CampaignReportsRepository; the bucketing and accumulation are pure and live here.
 */
import type { Store } from '../../store/db.js';
import type { CampaignReportsRepository, LinkClicks, ProblemEvent, ProgressBucket } from '../../store/campaign-reports-repository.js';
import { openRepositories } from '../../store/repositories.js';
import { bucketWidth } from '../../campaigns/progress-buckets.js';
import type { CampaignHealthRepository } from '../../store/campaign-health-repository.js';
import type { LinkEngagement } from '../../campaigns/campaign-health.js';
import type { SeriesPoint } from './chart-svg.js';

export type { LinkClicks, ProblemEvent };


/** Turn per-bucket counts into cumulative points at bucket ends. Pure. */
export function cumulativeSeries(rows: readonly ProgressBucket[], width: number, spanMs: number): SeriesPoint[] {
  const buckets = Math.max(1, Math.ceil(spanMs / width));
  const per = Array.from({ length: buckets }, () => ({ sent: 0, delivered: 0, bounced: 0 }));
  for (const r of rows) {
    if (!Number.isFinite(r.bucket)) continue;
    const i = Math.min(buckets - 1, Math.max(0, Math.floor(r.bucket)));
    per[i]![r.kind] += r.n;
  }
  const out: SeriesPoint[] = [];
  const acc = { sent: 0, delivered: 0, bounced: 0 };
  per.forEach((b, i) => {
    acc.sent += b.sent;
    acc.delivered += b.delivered;
    acc.bounced += b.bounced;
    out.push({ t: Math.min(spanMs, (i + 1) * width), ...acc });
  });
  return out;
}

export type CampaignReports = Pick<CampaignReportsRepository, 'progressBuckets' | 'topLinks' | 'recentProblems'>;
export type { LinkEngagement };

export class DashboardQueries {
  private readonly reports: CampaignReports;
  private readonly health: Pick<CampaignHealthRepository, 'linkEngagement'> | undefined;

  constructor(source: Store | CampaignReports) {
    const repos = 'progressBuckets' in source ? undefined : openRepositories(source);
    this.reports = repos?.campaignReports ?? (source as CampaignReports);
    this.health = repos?.campaignHealth;
  }

  /** Clicks per link by class (human, unique humans, machine, unknown), most human first. */
  async linkEngagement(campaignId: number, limit = 10): Promise<LinkEngagement[]> {
    if (this.health) return this.health.linkEngagement(campaignId, limit);
    return (await this.reports.topLinks(campaignId, limit)).map((l) => ({ url: l.url, human: 0, human_unique: 0, machine: 0, unknown: l.clicks }));
  }

  async series(campaignId: number, startedAt: number | null, finishedAt: number | null, now = Date.now()): Promise<SeriesPoint[]> {
    if (startedAt === null) return [];
    const span = Math.max(1000, (finishedAt ?? now) - startedAt);
    const width = bucketWidth(span);
    return cumulativeSeries(await this.reports.progressBuckets(campaignId, startedAt, width), width, span);
  }

  topLinks(campaignId: number, limit = 10): Promise<LinkClicks[]> {
    return this.reports.topLinks(campaignId, limit);
  }

  recentProblems(campaignId: number, limit = 20): Promise<ProblemEvent[]> {
    return this.reports.recentProblems(campaignId, limit);
  }
}
