import type { Kysely, Migration } from 'kysely';
import type { DialectName } from '../db.js';
import { createSqliteCounterTriggers, dropSqliteCounterTriggers } from './0015-delivery-counters.js';

/**
 * Issue 15 (the send path's cost): SQLite's ledger counter triggers (0015) evaluate the mailbox
 * provider of the row's address on every status move, twice per claim and twice per 'sent'
 * write. Compiled as `CASE WHEN domain IN (…)` SQLite rebuilt each IN list's ephemeral index on
 * every evaluation (~600 µs per row update); src/store/provider-sql.ts now compiles it as a
 * simple CASE on the domain (~130 µs), same result for every address. A database created before
 * keeps the old trigger text: this re-creates the three triggers in one transaction. The
 * counters are not touched (same provider for every row). PostgreSQL: nothing to do (its
 * statement triggers evaluate the expression once per changed row, without that cost).
 */
export function sqliteCounterTriggers(dialect: DialectName): Migration {
  return {
    /* eslint-disable @typescript-eslint/no-explicit-any */
    async up(db: Kysely<any>) {
      if (dialect !== 'sqlite') return;
      await db.transaction().execute(async (trx) => {
        await dropSqliteCounterTriggers(trx);
        await createSqliteCounterTriggers(trx);
      });
    },
    async down() {
      // The triggers stay in their cheaper, equivalent form.
    },
  };
}
