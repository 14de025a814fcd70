import type { Kysely, Migration } from 'kysely';
import type { DialectName } from '../db.js';

/**
 * Per-provider health and engagement class (issue 14):
 * - `campaign_provider_counts`: bounces, soft bounces, complaints and delivery delays of a
 *   campaign per mailbox provider (src/events/mailbox-provider.ts) and SMTP status, one
 *   counter row each, written by the event writer in the notification's transaction;
 * - `events.engagement` / `events.engagement_reason`: human | machine | unknown for each
 *   open and click (src/events/engagement-class.ts); null for other events and for
 *   opens/clicks stored before this migration (they count as unknown).
 * The new subscriber status `sunset` needs no schema change (status is text).
 */
export function providerEngagement(_dialect: DialectName): Migration {
  return {
    /* eslint-disable @typescript-eslint/no-explicit-any */
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('campaign_provider_counts')
        .addColumn('campaign_id', 'bigint', (c) => c.notNull().references('campaigns.id').onDelete('cascade'))
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('smtp_status', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('n', 'bigint', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('campaign_provider_counts_pk', ['campaign_id', 'provider', 'kind', 'smtp_status'])
        .execute();
      await db.schema.alterTable('events').addColumn('engagement', 'text').execute();
      await db.schema.alterTable('events').addColumn('engagement_reason', 'text').execute();
      await db.schema.createIndex('events_message_type').on('events').columns(['ses_message_id', 'type']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('events_message_type').ifExists().execute();
      await db.schema.alterTable('events').dropColumn('engagement_reason').execute();
      await db.schema.alterTable('events').dropColumn('engagement').execute();
      await db.schema.dropTable('campaign_provider_counts').ifExists().execute();
    },
  };
}
