import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../db.js';
import { PROVIDER_DOMAINS_TABLE, providerDomainRows, providerLookupSqliteSql } from '../provider-sql.js';
import { createSqliteCounterTriggers, dropSqliteCounterTriggers } from './0015-delivery-counters.js';

/**
 * Issue 15 (the send path's cost), SQLite only: the ledger counter triggers (0015, re-created by
 * 0023) compute the mailbox provider of the row's address with a simple CASE over every listed
 * domain (500+ arms, all of them walked for an address off the list), twice per status move:
 * ~40 µs of each claimed row's ~63 µs claim and ~12 µs of its ~30 µs 'sent' write. This creates
 * `mailbox_provider_domains` (domain → provider, from PROVIDER_DOMAINS as it is now) and
 * re-creates the three triggers with a primary-key lookup in it (providerLookupSqliteSql), in one
 * transaction. Same provider for every address (test/store/provider-sql.test.ts), so the
 * counters are not touched. Like the trigger text before, the table is a copy: a change of
 * PROVIDER_DOMAINS needs a migration that refills it and recounts. PostgreSQL: nothing to do
 * (its statement triggers are unaffected).
 */
export function sqliteProviderLookup(dialect: DialectName): Migration {
  return {
    /* eslint-disable @typescript-eslint/no-explicit-any */
    async up(db: Kysely<any>) {
      if (dialect !== 'sqlite') return;
      await db.transaction().execute(async (trx) => {
        await sql.raw(`create table ${PROVIDER_DOMAINS_TABLE} (domain text primary key, provider text not null) without rowid`).execute(trx);
        const rows = providerDomainRows();
        for (let i = 0; i < rows.length; i += 200) {
          await trx.insertInto(PROVIDER_DOMAINS_TABLE).values(rows.slice(i, i + 200)).execute();
        }
        await dropSqliteCounterTriggers(trx);
        await createSqliteCounterTriggers(trx, providerLookupSqliteSql('email'));
      });
    },
    async down(db: Kysely<any>) {
      if (dialect !== 'sqlite') return;
      await db.transaction().execute(async (trx) => {
        await dropSqliteCounterTriggers(trx);
        await createSqliteCounterTriggers(trx);
        await sql.raw(`drop table if exists ${PROVIDER_DOMAINS_TABLE}`).execute(trx);
      });
    },
  };
}
