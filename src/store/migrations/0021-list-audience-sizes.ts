import type { Kysely, Migration } from 'kysely';
import type { DialectName } from '../db.js';

/**
 * Issue 16: the send confirmation states the audience size, and counting a list's mailable
 * members is a pass over its memberships (445 ms at a million on PostgreSQL). The last count of
 * each list is kept here with the instant it describes (`counted_at`, epoch ms), so a page reads
 * one row and the count runs off the request (src/campaigns/audience-sizes.ts owns when).
 * A cache, not a counter: campaigns never read it; their own audience is counted exactly
 * (canary start, the fan-out's fill-in, cancel).
 */
export function listAudienceSizes(_dialect: DialectName): Migration {
  return {
    /* eslint-disable @typescript-eslint/no-explicit-any */
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('list_audience_sizes')
        .addColumn('list_id', 'bigint', (c) => c.primaryKey().references('lists.id').onDelete('cascade'))
        .addColumn('n', 'bigint', (c) => c.notNull())
        .addColumn('counted_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('list_audience_sizes').ifExists().execute();
    },
  };
}
