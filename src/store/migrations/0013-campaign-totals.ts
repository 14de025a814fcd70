import type { Kysely, Migration } from 'kysely';
import type { DialectName } from '../db.js';

/**
 * Retention (LEDGER_RETENTION_DAYS, `store prune`): before the per-recipient ledger and
 * event rows of a finished campaign are dropped, its totals are persisted here, so its stats,
 * chart and clicks per link read the same afterwards.
 *  - campaign_totals: one row per pruned campaign: the ledger counts the stats derive from,
 *    the progress chart's buckets, the events cutoff the prune used (a resumed prune deletes
 *    exactly what was counted), and when the prune finished (null = still running).
 *  - campaign_link_clicks: click events per link of the deleted rows (topLinks adds the
 *    click events that remain).
 *  - campaign_totals.health: the engagement by class and the per-provider figures' stored
 *    inputs as of the prune (src/store/campaign-health-repository.ts reads them instead).
 */
export function campaignTotals(_dialect: DialectName): Migration {
  return {
    /* eslint-disable @typescript-eslint/no-explicit-any */
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('campaign_totals')
        .addColumn('campaign_id', 'bigint', (c) => c.primaryKey().references('campaigns.id').onDelete('cascade'))
        .addColumn('by_status', 'text', (c) => c.notNull())
        .addColumn('uncertain', 'integer', (c) => c.notNull())
        .addColumn('opened', 'integer', (c) => c.notNull())
        .addColumn('clicked', 'integer', (c) => c.notNull())
        .addColumn('rows', 'integer', (c) => c.notNull())
        .addColumn('series', 'text')
        .addColumn('series_width', 'bigint')
        .addColumn('events_cutoff', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('pruned_at', 'bigint')
        .addColumn('health', 'text')
        .execute();
      await db.schema
        .createTable('campaign_link_clicks')
        .addColumn('campaign_id', 'bigint', (c) => c.notNull().references('campaigns.id').onDelete('cascade'))
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('clicks', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('campaign_link_clicks_pk', ['campaign_id', 'url'])
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('campaign_link_clicks').ifExists().execute();
      await db.schema.dropTable('campaign_totals').ifExists().execute();
    },
  };
}
