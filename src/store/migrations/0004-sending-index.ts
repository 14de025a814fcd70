import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../db.js';

/**
 * The reconciler looks for ledger rows left 'sending' past the grace period every second in
 * every worker. Without an index that is a scan of the whole ledger (every campaign ever
 * sent); this partial index holds only the rows in flight, so the scan stays as small as
 * the worker fleet's concurrency. (Both planners use it with the status as a bound parameter:
 * SQLite re-prepares for the bound value, Postgres plans unnamed statements per execution.)
 */
export function sendingIndex(_dialect: DialectName): Migration {
  return {
    /* eslint-disable @typescript-eslint/no-explicit-any */
    async up(db: Kysely<any>) {
      await db.schema.createIndex('deliveries_sending_claimed').on('deliveries').column('claimed_at').where(sql.ref('status'), '=', sql.lit('sending')).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('deliveries_sending_claimed').ifExists().execute();
    },
  };
}
