import type { ColumnDefinitionBuilder, Kysely, Migration } from 'kysely';
import type { DialectName } from '../db.js';

/**
 * The activity log of each campaign (CampaignActivityTable): who created, edited, tested,
 * scheduled, started, paused, resumed, cancelled or finished it, and when. Written by the
 * campaign orchestrator in the same transaction as the change it records. Also an index
 * on (list_id, issue_slug): a resubmitted issue finds its campaign (idempotent CI submit).
 */
export function campaignActivity(dialect: DialectName): Migration {
  const idType = dialect === 'postgres' ? 'bigserial' : 'integer';
  const id = (c: ColumnDefinitionBuilder) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement());
  return {
    /* eslint-disable @typescript-eslint/no-explicit-any */
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('campaign_activity')
        .addColumn('id', idType, id)
        .addColumn('campaign_id', 'bigint', (c) => c.notNull().references('campaigns.id').onDelete('cascade'))
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('actor_name', 'text', (c) => c.notNull())
        .addColumn('actor_role', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('campaign_activity_campaign').on('campaign_activity').columns(['campaign_id', 'id']).execute();
      await db.schema.createIndex('campaigns_list_slug').on('campaigns').columns(['list_id', 'issue_slug']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('campaigns_list_slug').ifExists().execute();
      await db.schema.dropTable('campaign_activity').ifExists().execute();
    },
  };
}
