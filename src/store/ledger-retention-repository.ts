/**
 * Retention's store side (LEDGER_RETENTION_DAYS, `newsletter store prune`): which finished
 * campaigns may lose their per-recipient rows, persisting their totals first, and deleting
 * ledger and event rows in bounded batches. The policy (cutoffs, batch pacing) lives in
 * src/campaigns/ledger-retention.ts.
 *
 * Kept for ever: the campaign row, its persisted totals (campaign_totals: the ledger counts the
 * stats derive from and the chart's buckets), clicks per link (campaign_link_clicks), every
 * suppression (never touched here), and bounce and complaint events (1–2 % of the events; the
 * evidence behind suppressions and the soft-bounce policy's history).
 * Dropped: the campaign's `deliveries` rows and its other events created before the cutoff.
 *
 * Each batch is one autocommitted statement over at most `limit` rows found by index
 * (deliveries' primary key; events_campaign_type), so no lock is held between batches and
 * sends and webhooks of other campaigns go on meanwhile.
 */
import { sql, type Kysely } from 'kysely';
import type { CampaignStatus, Database } from './schema.js';
import { CampaignReportsRepository } from './campaign-reports-repository.js';
import { CampaignHealthRepository } from './campaign-health-repository.js';
import { DeliveryLedger } from './delivery-ledger.js';
import { readTotals, type PersistedTotals } from './campaign-totals.js';

/** Event types kept when a campaign is pruned. */
export const KEPT_EVENT_TYPES = ['bounce', 'complaint'] as const;

/** Only campaigns in these statuses are ever pruned: nothing can change them any more. */
export const PRUNABLE_STATUSES: readonly CampaignStatus[] = ['sent', 'cancelled'];

export interface PruneCandidate {
  id: number;
  subject: string;
  status: CampaignStatus;
  startedAt: number | null;
  finishedAt: number;
  /** A prune of it started earlier and did not finish (its totals are persisted). */
  resumed: boolean;
}

export class LedgerRetentionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Finished (sent/cancelled) campaigns finished before `finishedBefore` whose prune has not completed. */
  async candidates(finishedBefore: number): Promise<PruneCandidate[]> {
    const rows = await this.db
      .selectFrom('campaigns as c')
      .leftJoin('campaign_totals as t', 't.campaign_id', 'c.id')
      .select(['c.id', 'c.subject', 'c.status', 'c.started_at', 'c.finished_at', 't.created_at as totals_at'])
      .where('c.status', 'in', PRUNABLE_STATUSES)
      .where('c.finished_at', 'is not', null)
      .where('c.finished_at', '<', finishedBefore)
      .where('t.pruned_at', 'is', null)
      .orderBy('c.id')
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      subject: r.subject,
      status: r.status,
      startedAt: r.started_at === null ? null : Number(r.started_at),
      finishedAt: Number(r.finished_at),
      resumed: r.totals_at !== null,
    }));
  }

  /** What a prune of this campaign would delete now (dry run). */
  async removable(campaignId: number, eventsCutoff: number | null): Promise<{ ledgerRows: number; events: number; links: number }> {
    const ledger = await this.db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('campaign_id', '=', campaignId)
      .executeTakeFirstOrThrow();
    let events = 0;
    let links = 0;
    if (eventsCutoff !== null) {
      const row = await this.prunableEvents(campaignId, eventsCutoff)
        .select((eb) => [eb.fn.countAll<number>().as('n'), sql<number>`count(distinct case when type = 'click' then detail end)`.as('links')])
        .executeTakeFirstOrThrow();
      events = Number(row.n);
      links = Number(row.links);
    }
    return { ledgerRows: Number(ledger.n), events, links };
  }

  /**
   * Persist the campaign's totals before anything is deleted: its ledger counts, its chart's
   * buckets at `seriesWidth` (null = none) and clicks per link of the click events created
   * before `eventsCutoff` (the ones the prune deletes). Idempotent: a campaign already
   * snapshotted keeps its first snapshot, and the cutoff returned is the one it was taken
   * with, so a resumed prune deletes exactly the events that were counted.
   */
  async persistTotals(
    campaignId: number,
    options: { uncertainBefore: number; startedAt: number | null; seriesWidth: number | null; eventsCutoff: number | null },
    now = Date.now(),
  ): Promise<{ eventsCutoff: number | null }> {
    return this.db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom('campaign_totals').select('events_cutoff').where('campaign_id', '=', campaignId).executeTakeFirst();
      if (existing) return { eventsCutoff: existing.events_cutoff === null ? null : Number(existing.events_cutoff) };
      const counts = await new DeliveryLedger(trx).liveCounts(campaignId, options.uncertainBefore);
      const buckets =
        options.startedAt !== null && options.seriesWidth !== null
          ? await new CampaignReportsRepository(trx).liveProgressBuckets(campaignId, options.startedAt, options.seriesWidth)
          : null;
      await trx
        .insertInto('campaign_totals')
        .values({
          campaign_id: campaignId,
          by_status: JSON.stringify(counts.byStatus),
          uncertain: counts.uncertain,
          opened: counts.opened,
          clicked: counts.clicked,
          rows: counts.rows,
          series: buckets === null ? null : JSON.stringify(buckets),
          series_width: buckets === null ? null : options.seriesWidth,
          events_cutoff: options.eventsCutoff,
          created_at: now,
          pruned_at: null,
          health: JSON.stringify(await new CampaignHealthRepository(trx).live(campaignId)),
        })
        .execute();
      if (options.eventsCutoff !== null) {
        await trx
          .insertInto('campaign_link_clicks')
          .columns(['campaign_id', 'url', 'clicks'])
          .expression(
            trx
              .selectFrom('events')
              .select([sql<number>`${campaignId}`.as('campaign_id'), sql<string>`detail`.as('url'), sql<number>`count(*)`.as('clicks')])
              .where('campaign_id', '=', campaignId)
              .where('type', '=', 'click')
              .where('detail', 'is not', null)
              .where('created_at', '<', options.eventsCutoff)
              .groupBy('detail'),
          )
          .execute();
      }
      return { eventsCutoff: options.eventsCutoff };
    });
  }

  /** The persisted totals of a pruned (or being pruned) campaign; undefined if it never was. */
  async totals(campaignId: number): Promise<PersistedTotals | undefined> {
    return readTotals(this.db, campaignId);
  }

  /** Delete up to `limit` ledger rows of the campaign (one statement); returns how many went. */
  deleteLedgerBatch(campaignId: number, limit: number): Promise<number> {
    return this.deleteRecipientsBatch('deliveries', campaignId, limit);
  }

  /**
   * Delete up to `limit` of the campaign's per-recipient engagement marks (migration 0020);
   * returns how many went. Its stats read the figures persisted with its totals from then on,
   * so only the marks go: the per-mark counts (at most 64 rows) stay.
   */
  deleteEngagementMarksBatch(campaignId: number, limit: number): Promise<number> {
    return this.deleteRecipientsBatch('campaign_engagement_marks', campaignId, limit);
  }

  /** One statement: the campaign's first `limit` rows of a table keyed by (campaign_id, subscriber_id), by index. */
  private async deleteRecipientsBatch(table: 'deliveries' | 'campaign_engagement_marks', campaignId: number, limit: number): Promise<number> {
    const result = await this.db
      .deleteFrom(table)
      .where('campaign_id', '=', campaignId)
      .where('subscriber_id', 'in', (eb) => eb.selectFrom(table).select('subscriber_id').where('campaign_id', '=', campaignId).orderBy('subscriber_id').limit(limit))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Delete up to `limit` prunable events of the campaign created before `cutoff`; returns how many went. */
  async deleteEventsBatch(campaignId: number, cutoff: number, limit: number): Promise<number> {
    const result = await this.db
      .deleteFrom('events')
      .where('id', 'in', this.prunableEvents(campaignId, cutoff).select('id').limit(limit))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** The prune of this campaign is complete: it is no longer a candidate. */
  async markPruned(campaignId: number, now = Date.now()): Promise<void> {
    await this.db.updateTable('campaign_totals').set({ pruned_at: now }).where('campaign_id', '=', campaignId).execute();
  }

  private prunableEvents(campaignId: number, cutoff: number) {
    return this.db
      .selectFrom('events')
      .where('campaign_id', '=', campaignId)
      .where('type', 'not in', KEPT_EVENT_TYPES)
      .where('created_at', '<', cutoff);
  }
}
