import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../db.js';

/**
 * Issue 16 (a million subscribers): indexes for the subscriber searches the API and dashboard
 * run on every keystroke, found by the plan tests (test/store/hot-query-plans.test.ts).
 *  - subscribers (status, id): "search by status" pages in id order and counts from the index
 *    instead of scanning every subscriber.
 *  - Postgres: trigram GIN indexes (pg_trgm) on lower(email) and lower(coalesce(name, '')),
 *    the exact expressions SubscribersRepository.search matches with LIKE '%q%', so a
 *    substring search is a bitmap index scan. Skipped when the server lacks pg_trgm (then
 *    the search scans, as before). SQLite has no such index: its substring search scans
 *    (about 100,000 rows in tens of ms; bench/results/scale.md).
 */
export function searchIndexes(dialect: DialectName): Migration {
  return {
    /* eslint-disable @typescript-eslint/no-explicit-any */
    async up(db: Kysely<any>) {
      await db.schema.createIndex('subscribers_status_id').on('subscribers').columns(['status', 'id']).execute();
      if (dialect !== 'postgres') return;
      const available = await sql<{ n: number }>`select count(*)::int as n from pg_available_extensions where name = 'pg_trgm'`.execute(db);
      if (!available.rows[0]?.n) return;
      await sql`create extension if not exists pg_trgm`.execute(db);
      await sql`create index subscribers_email_trgm on subscribers using gin (lower(email) gin_trgm_ops)`.execute(db);
      await sql`create index subscribers_name_trgm on subscribers using gin (lower(coalesce(name, '')) gin_trgm_ops)`.execute(db);
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('subscribers_name_trgm').ifExists().execute();
      await db.schema.dropIndex('subscribers_email_trgm').ifExists().execute();
      await db.schema.dropIndex('subscribers_status_id').ifExists().execute();
    },
  };
}
