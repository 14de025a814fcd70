import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/** How many ledger rows of a campaign reached a stage within one time bucket. */
export interface ProgressBucket {
  /** Bucket index: (instant − startedAt) / width, rounded down. */
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

  /** Sends and outcomes per bucket of `width` ms from `startedAt` (empty buckets absent). */
  async progressBuckets(campaignId: number, startedAt: number, width: number): Promise<ProgressBucket[]> {
    // better-sqlite3 binds JS numbers as REAL, so cast: the bucket must be an integer to group on.
    const bucketOf = (col: 'sent_at' | 'outcome_at') => sql<number>`cast((${sql.ref(col)} - ${startedAt}) / ${width} as integer)`;
    const [sent, outcomes] = await Promise.all([
      this.db
        .selectFrom('deliveries')
        .select([bucketOf('sent_at').as('bucket'), sql<number>`count(*)`.as('n')])
        .where('campaign_id', '=', campaignId)
        .where('sent_at', 'is not', null)
        .groupBy(sql`1`)
        .execute(),
      this.db
        .selectFrom('deliveries')
        .select([bucketOf('outcome_at').as('bucket'), 'status', sql<number>`count(*)`.as('n')])
        .where('campaign_id', '=', campaignId)
        .where('outcome_at', 'is not', null)
        .where('status', 'in', ['delivered', 'bounced', 'complained'])
        .groupBy([sql`1`, 'status'])
        .execute(),
    ]);
    const rows: ProgressBucket[] = [];
    for (const r of sent) rows.push({ bucket: Number(r.bucket), kind: 'sent', n: Number(r.n) });
    for (const r of outcomes) {
      // A complaint arrives after a delivery: it counts as delivered.
      rows.push({ bucket: Number(r.bucket), kind: r.status === 'bounced' ? 'bounced' : 'delivered', n: Number(r.n) });
    }
    return rows;
  }

  async topLinks(campaignId: number, limit = 10): Promise<LinkClicks[]> {
    const rows = await this.db
      .selectFrom('events')
      .select(['detail', sql<number>`count(*)`.as('n')])
      .where('campaign_id', '=', campaignId)
      .where('type', '=', 'click')
      .where('detail', 'is not', null)
      .groupBy('detail')
      .orderBy(sql`2`, 'desc')
      .orderBy('detail')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ url: r.detail!, clicks: Number(r.n) }));
  }

  async recentProblems(campaignId: number, limit = 20): Promise<ProblemEvent[]> {
    const rows = await this.db
      .selectFrom('events')
      .select(['type', 'subtype', 'email', 'detail', 'occurred_at'])
      .where('campaign_id', '=', campaignId)
      .where('type', 'in', ['bounce', 'complaint'])
      .orderBy('occurred_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ ...r, occurred_at: Number(r.occurred_at) }));
  }
}
