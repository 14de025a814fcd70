import { type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../db.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
export function initialSchema(dialect: DialectName): Migration {
  const idType = dialect === 'postgres' ? 'bigserial' : 'integer';
  const id = (c: ColumnDefinitionBuilder) =>
    dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement();
  const ts = 'bigint' as const;

  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('subscribers')
        .addColumn('id', idType, id)
        .addColumn('email', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text')
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
        .addColumn('attributes', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('status_reason', 'text')
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('lists')
        .addColumn('id', idType, id)
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', ts, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('list_members')
        .addColumn('list_id', 'bigint', (c) => c.notNull().references('lists.id').onDelete('cascade'))
        .addColumn('subscriber_id', 'bigint', (c) => c.notNull().references('subscribers.id').onDelete('cascade'))
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('subscribed'))
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .addPrimaryKeyConstraint('list_members_pk', ['list_id', 'subscriber_id'])
        .execute();
      await db.schema.createIndex('list_members_subscriber').on('list_members').column('subscriber_id').execute();

      await db.schema
        .createTable('suppressions')
        .addColumn('email', 'text', (c) => c.primaryKey())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addColumn('created_at', ts, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('campaigns')
        .addColumn('id', idType, id)
        .addColumn('list_id', 'bigint', (c) => c.notNull().references('lists.id'))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('issue_title', 'text', (c) => c.notNull())
        .addColumn('issue_slug', 'text', (c) => c.notNull())
        .addColumn('issue_date', 'text')
        .addColumn('source_path', 'text')
        .addColumn('source_markdown', 'text', (c) => c.notNull())
        .addColumn('compiled_json', 'text')
        .addColumn('scheduled_at', ts)
        .addColumn('started_at', ts)
        .addColumn('finished_at', ts)
        .addColumn('audience_max_subscriber_id', 'bigint')
        .addColumn('fanout_cursor', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('fanout_done', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('total', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('paused_reason', 'text')
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('campaigns_status').on('campaigns').column('status').execute();

      await db.schema
        .createTable('deliveries')
        .addColumn('campaign_id', 'bigint', (c) => c.notNull().references('campaigns.id').onDelete('cascade'))
        .addColumn('subscriber_id', 'bigint', (c) => c.notNull())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('ses_message_id', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('claimed_by', 'text')
        .addColumn('claimed_at', ts)
        .addColumn('sent_at', ts)
        .addColumn('confirmed_at', ts)
        .addColumn('outcome_at', ts)
        .addColumn('opened_at', ts)
        .addColumn('clicked_at', ts)
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('updated_at', ts, (c) => c.notNull())
        .addPrimaryKeyConstraint('deliveries_pk', ['campaign_id', 'subscriber_id'])
        .execute();
      await db.schema.createIndex('deliveries_ses_message_id').on('deliveries').column('ses_message_id').execute();
      await db.schema.createIndex('deliveries_campaign_status').on('deliveries').columns(['campaign_id', 'status']).execute();

      await db.schema
        .createTable('events')
        .addColumn('id', idType, id)
        .addColumn('sns_message_id', 'text', (c) => c.notNull().unique())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('subtype', 'text')
        .addColumn('ses_message_id', 'text')
        .addColumn('email', 'text')
        .addColumn('campaign_id', 'bigint')
        .addColumn('subscriber_id', 'bigint')
        .addColumn('detail', 'text')
        .addColumn('occurred_at', ts, (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('created_at', ts, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('events_campaign_type').on('events').columns(['campaign_id', 'type']).execute();
      await db.schema.createIndex('events_email_type').on('events').columns(['email', 'type']).execute();

      await db.schema
        .createTable('api_tokens')
        .addColumn('id', idType, id)
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', ts, (c) => c.notNull())
        .addColumn('last_used_at', ts)
        .execute();

    },
    async down(db: Kysely<any>) {
      for (const t of ['api_tokens', 'events', 'deliveries', 'campaigns', 'suppressions', 'list_members', 'lists', 'subscribers']) {
        await db.schema.dropTable(t).ifExists().execute();
      }
    },
  };
}
