import type { ColumnDefinitionBuilder, Kysely, Migration } from 'kysely';
import type { DialectName } from '../db.js';

/**
 * Double opt-in bookkeeping: one row per sign-up request from the public form (see
 * SignupRequestsTable). Indexed by expiry for the cleanup and by address for the
 * "already asked recently" check.
 */
export function signupRequests(dialect: DialectName): Migration {
  const idType = dialect === 'postgres' ? 'bigserial' : 'integer';
  const id = (c: ColumnDefinitionBuilder) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement());
  return {
    /* eslint-disable @typescript-eslint/no-explicit-any */
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('signup_requests')
        .addColumn('id', idType, id)
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('name', 'text')
        .addColumn('list_id', 'bigint', (c) => c.notNull().references('lists.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('mail_sent_at', 'bigint')
        .addColumn('ses_message_id', 'text')
        .addColumn('confirmed_at', 'bigint')
        .execute();
      await db.schema.createIndex('signup_requests_expires').on('signup_requests').column('expires_at').execute();
      await db.schema.createIndex('signup_requests_email').on('signup_requests').column('email').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('signup_requests').ifExists().execute();
    },
  };
}
