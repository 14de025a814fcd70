import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { persistedLinkClicks, readTotals } from './campaign-totals.js';
import { readProgressBuckets } from './delivery-counters.js';
import { PROBLEM_TYPES_SQL } from './migrations/0022-campaign-page-indexes.js';

/** How many ledger rows of a campaign reached a stage within one time bucket. */
export interface ProgressBucket {
  /** Bucket index: (instant − the start's whole second) / width, rounded down. */
  bucket: number;
  kind: 'sent' | 'delivered' | 'bounced';
  n: number;
}

export interface ProblemEvent {
  type: string;
  subtype: string | null;
  email: string | null;
  detail: string | null;
  occurred_at: number;
}

export interface LinkClicks {
  url: string;
  clicks: number;
}

/**
 * Read model behind the dashboard's campaign page: progress over time, the most clicked
 * links and the latest bounces and complaints. Read-only. One code path for SQLite and
 * Postgres (integer division of epoch-ms differences works the same in both).
 */
export class CampaignReportsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Sends and outcomes per bucket of `width` ms from `startedAt` (empty buckets absent). A
   * pruned campaign reads the buckets persisted before its rows went (same width: a finished
   * campaign's span, hence the dashboard's width, no longer changes).
   */
  async progressBuckets(campaignId: number, startedAt: number, width: number): Promise<ProgressBucket[]> {
    const persisted = await readTotals(this.db, campaignId);
    if (persisted?.series && persisted.series.width === width) return persisted.series.buckets;
    return this.liveProgressBuckets(campaignId, startedAt, width);
  }

  /**
   * `progressBuckets` from the per-second progress counters the database keeps (migration 0019):
   * bounded by the campaign's seconds of activity, not its ledger rows. Bucket edges fall on whole
   * seconds from the start's second (readProgressBuckets).
   */
  async liveProgressBuckets(campaignId: number, startedAt: number, width: number): Promise<ProgressBucket[]> {
    return readProgressBuckets(this.db, campaignId, startedAt, width);
  }

  /** Most clicked links: click events, plus the clicks persisted when the campaign was pruned. */
  async topLinks(campaignId: number, limit = 10): Promise<LinkClicks[]> {
    const persisted = await persistedLinkClicks(this.db, campaignId);
    if (persisted.length > 0) {
      const byUrl = new Map(persisted.map((l) => [l.url, l.clicks]));
      for (const l of await this.eventLinkClicks(campaignId)) byUrl.set(l.url, (byUrl.get(l.url) ?? 0) + l.clicks);
      return [...byUrl]
        .map(([url, clicks]) => ({ url, clicks }))
        .sort((a, b) => b.clicks - a.clicks || (a.url < b.url ? -1 : a.url > b.url ? 1 : 0))
        .slice(0, limit);
    }
    return this.eventLinkClicks(campaignId, limit);
  }

  private async eventLinkClicks(campaignId: number, limit?: number): Promise<LinkClicks[]> {
    let q = this.db
      .selectFrom('events')
      .select(['detail', sql<number>`count(*)`.as('n')])
      .where('campaign_id', '=', campaignId)
      // The partial index events_link_clicks (migration 0022) in its own terms: a literal, not a parameter.
      .where('type', '=', sql.lit('click'))
      .where('detail', 'is not', null)
      .groupBy('detail')
      .orderBy(sql`2`, 'desc')
      .orderBy('detail');
    if (limit !== undefined) q = q.limit(limit);
    const rows = await q.execute();
    return rows.map((r) => ({ url: r.detail!, clicks: Number(r.n) }));
  }

  async recentProblems(campaignId: number, limit = 20): Promise<ProblemEvent[]> {
    const rows = await this.db
      .selectFrom('events')
      .select(['type', 'subtype', 'email', 'detail', 'occurred_at'])
      .where('campaign_id', '=', campaignId)
      // Read backwards along the partial index events_recent_problems (migration 0022), whose predicate this is.
      .where(sql<boolean>`type in ${sql.raw(PROBLEM_TYPES_SQL)}`)
      .orderBy('occurred_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ ...r, occurred_at: Number(r.occurred_at) }));
  }
}
