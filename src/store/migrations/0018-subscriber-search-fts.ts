import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../db.js';

/**
 * Issue 16 (subscriber search on SQLite, the embedded default): `GET /api/subscribers?q=` is a
 * substring search of address and name (case-insensitive). Postgres serves it from the pg_trgm
 * indexes of migration 0014; SQLite has no substring index, so it scanned every subscriber
 * (142 ms at 100,000). This adds an FTS5 table with the trigram tokenizer over the same two
 * columns, an external-content index (`content='subscribers'`: it stores the trigram index only,
 * and reads address and name from `subscribers`), kept in step by triggers on insert, delete and
 * an update OF email, name (status changes, the frequent update, do not touch it).
 * SubscribersRepository.search narrows to its MATCH for a `q` of 3 characters or more (a
 * trigram needs 3) and keeps the LIKE predicate as well, so the answer is exactly the scan's:
 * the trigram match is case-folded like LIKE (and over more of Unicode), a superset the LIKE
 * then trims. Shorter `q` scans, as before. Postgres: nothing (it has its indexes).
 */
export function subscriberSearchFts(dialect: DialectName): Migration {
  return {
    /* eslint-disable @typescript-eslint/no-explicit-any */
    async up(db: Kysely<any>) {
      if (dialect !== 'sqlite') return;
      await sql`create virtual table subscribers_search using fts5(email, name, content='subscribers', content_rowid='id', tokenize='trigram')`.execute(db);
      await sql`create trigger subscribers_search_insert after insert on subscribers begin
        insert into subscribers_search (rowid, email, name) values (new.id, new.email, new.name); end`.execute(db);
      await sql`create trigger subscribers_search_delete after delete on subscribers begin
        insert into subscribers_search (subscribers_search, rowid, email, name) values ('delete', old.id, old.email, old.name); end`.execute(db);
      await sql`create trigger subscribers_search_update after update of email, name on subscribers begin
        insert into subscribers_search (subscribers_search, rowid, email, name) values ('delete', old.id, old.email, old.name);
        insert into subscribers_search (rowid, email, name) values (new.id, new.email, new.name); end`.execute(db);
      await sql`insert into subscribers_search (subscribers_search) values ('rebuild')`.execute(db);
    },
    async down(db: Kysely<any>) {
      if (dialect !== 'sqlite') return;
      await sql`drop trigger if exists subscribers_search_update`.execute(db);
      await sql`drop trigger if exists subscribers_search_delete`.execute(db);
      await sql`drop trigger if exists subscribers_search_insert`.execute(db);
      await sql`drop table if exists subscribers_search`.execute(db);
    },
  };
}
