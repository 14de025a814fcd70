/**
 * The persisted totals of a pruned campaign (campaign_totals, campaign_link_clicks; written by
 * LedgerRetentionRepository before any of its rows are deleted). The ledger's counts, the
 * chart's buckets and clicks per link read them, so a pruned campaign reads as before.
 */
import type { Kysely } from 'kysely';
import type { Database, DeliveryStatus } from './schema.js';
import type { LedgerCounts } from './delivery-ledger.js';
import type { LinkClicks, ProgressBucket } from './campaign-reports-repository.js';

export interface PersistedTotals {
  counts: LedgerCounts;
  series: { width: number; buckets: ProgressBucket[] } | null;
  eventsCutoff: number | null;
  prunedAt: number | null;
}

/** Shared by the ledger's and the reports' read paths: a campaign's persisted totals, if any. */
export async function readTotals(db: Kysely<Database>, campaignId: number): Promise<PersistedTotals | undefined> {
  const row = await db.selectFrom('campaign_totals').selectAll().where('campaign_id', '=', campaignId).executeTakeFirst();
  if (!row) return undefined;
  return {
    counts: {
      byStatus: JSON.parse(row.by_status) as Partial<Record<DeliveryStatus, number>>,
      uncertain: Number(row.uncertain),
      opened: Number(row.opened),
      clicked: Number(row.clicked),
      rows: Number(row.rows),
    },
    series: row.series === null || row.series_width === null ? null : { width: Number(row.series_width), buckets: JSON.parse(row.series) as ProgressBucket[] },
    eventsCutoff: row.events_cutoff === null ? null : Number(row.events_cutoff),
    prunedAt: row.pruned_at === null ? null : Number(row.pruned_at),
  };
}

/** Clicks per link persisted for a pruned campaign. */
export async function persistedLinkClicks(db: Kysely<Database>, campaignId: number): Promise<LinkClicks[]> {
  const rows = await db.selectFrom('campaign_link_clicks').select(['url', 'clicks']).where('campaign_id', '=', campaignId).execute();
  return rows.map((r) => ({ url: r.url, clicks: Number(r.clicks) }));
}
