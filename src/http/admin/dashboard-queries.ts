/**
 * Read-only queries behind the dashboard's campaign page: the time series for the chart,
 * the most clicked links and the latest bounces and complaints. One code path for SQLite
 * and Postgres (integer division of epoch-ms differences works the same in both).
 */
import { sql } from 'kysely';
import type { Store } from '../../store/db.js';
import type { SeriesPoint } from './chart-svg.js';

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

const MAX_BUCKETS = 60;

/** Pick a bucket width (ms) giving at most 60 points over the span. */
export function bucketWidth(spanMs: number): number {
  return Math.max(1000, Math.ceil(spanMs / MAX_BUCKETS / 1000) * 1000);
}

/** Turn per-bucket counts into cumulative points at bucket ends. Pure. */
export function cumulativeSeries(
  rows: { bucket: number; kind: 'sent' | 'delivered' | 'bounced'; n: number }[],
  width: number,
  spanMs: number,
): SeriesPoint[] {
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

export class DashboardQueries {
  constructor(private readonly store: Store) {}

  async series(campaignId: number, startedAt: number | null, finishedAt: number | null, now = Date.now()): Promise<SeriesPoint[]> {
    if (startedAt === null) return [];
    const span = Math.max(1000, (finishedAt ?? now) - startedAt);
    const width = bucketWidth(span);
    const db = this.store.db;
    // better-sqlite3 binds JS numbers as REAL, so cast: the bucket must be an integer to group on.
    const bucketOf = (col: 'sent_at' | 'outcome_at') => sql<number>`cast((${sql.ref(col)} - ${startedAt}) / ${width} as integer)`;
    const [sent, outcomes] = await Promise.all([
      db
        .selectFrom('deliveries')
        .select([bucketOf('sent_at').as('bucket'), sql<number>`count(*)`.as('n')])
        .where('campaign_id', '=', campaignId)
        .where('sent_at', 'is not', null)
        .groupBy(sql`1`)
        .execute(),
      db
        .selectFrom('deliveries')
        .select([bucketOf('outcome_at').as('bucket'), 'status', sql<number>`count(*)`.as('n')])
        .where('campaign_id', '=', campaignId)
        .where('outcome_at', 'is not', null)
        .where('status', 'in', ['delivered', 'bounced', 'complained'])
        .groupBy([sql`1`, 'status'])
        .execute(),
    ]);
    const rows: { bucket: number; kind: 'sent' | 'delivered' | 'bounced'; n: number }[] = [];
    for (const r of sent) rows.push({ bucket: Number(r.bucket), kind: 'sent', n: Number(r.n) });
    for (const r of outcomes) {
      // A complaint arrives after a delivery: it counts as delivered on the chart.
      rows.push({ bucket: Number(r.bucket), kind: r.status === 'bounced' ? 'bounced' : 'delivered', n: Number(r.n) });
    }
    return cumulativeSeries(rows, width, span);
  }

  async topLinks(campaignId: number, limit = 10): Promise<LinkClicks[]> {
    const rows = await this.store.db
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
    const rows = await this.store.db
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
