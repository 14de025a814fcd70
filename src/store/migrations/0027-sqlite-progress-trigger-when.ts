import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../db.js';
import { createSqliteProgressUpdateTrigger, PROGRESS_UPDATE_WHEN_0019 } from './0019-progress-counters.js';

/**
 * SQLite only (issue #15, the send path's cost): migration 0019's update trigger on `deliveries`
 * ran on every status change, so every claim (queued → sending) ran its two progress upserts,
 * which count nothing: a row counts in the progress counters only by its sent_at (kind 'sent',
 * whatever its status) and, where outcome_at is set, by its status (delivered / bounced). A
 * status change therefore changes a row's contributions only where outcome_at is set in the old
 * or the new row; the trigger now runs only then, or when sent_at, outcome_at or the campaign
 * changes, which is exactly when the contributions of OLD and NEW can differ. The counters are
 * the same after every statement (test/store/delivery-counters.test.ts compares them with the
 * ledger's own grouping through every transition). A claim's CPU per row goes from 22–24 to
 * 16–18 µs (bench/ledger-writes.ts, --schema-upto 0026-delivery-send-batch for before).
 * PostgreSQL's statement triggers (deltas of the transition tables) are untouched.
 */
export const PROGRESS_UPDATE_WHEN =
  'old.sent_at is not new.sent_at or old.outcome_at is not new.outcome_at or old.campaign_id is not new.campaign_id' +
  ' or (old.status is not new.status and (old.outcome_at is not null or new.outcome_at is not null))';

export function sqliteProgressTriggerWhen(dialect: DialectName): Migration {
  /* eslint-disable @typescript-eslint/no-explicit-any */
  const recreate = (when: string) => async (db: Kysely<any>) => {
    if (dialect !== 'sqlite') return;
    await db.transaction().execute(async (trx) => {
      await sql`drop trigger if exists deliveries_progress_update`.execute(trx);
      await createSqliteProgressUpdateTrigger(trx, when);
    });
  };
  return { up: recreate(PROGRESS_UPDATE_WHEN), down: recreate(PROGRESS_UPDATE_WHEN_0019) };
}
