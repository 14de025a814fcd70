import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../db.js';
import { createStatementDeltaTriggers, dropDeliveriesTriggers } from './deliveries-triggers.js';

/**
 * Per-campaign, per-second progress counters (issue #16) for the campaign page's chart, kept by
 * the database exactly like the status counters of migration 0015 (read that one for the
 * consistency argument; it holds here word for word): the chart groups these rows instead of
 * every ledger row of the campaign.
 *
 *  - campaign_progress_counts (campaign_id, kind, second) → n, where for each ledger row
 *      kind 'sent'      at floor(sent_at / 1000)    when sent_at is set;
 *      kind 'delivered' at floor(outcome_at / 1000) when status is delivered or complained
 *                       (a complaint arrives after a delivery) and outcome_at is set;
 *      kind 'bounced'   at floor(outcome_at / 1000) when status is bounced and outcome_at is set.
 *    That is what CampaignReportsRepository.progressBuckets used to group the ledger by.
 *  - campaign_progress_count_deltas: PostgreSQL's statement deltas (statement-level triggers with
 *    transition tables; no send-path statement updates a shared row), folded into the counters
 *    by DeliveryLedger.foldCounters together with 0015's. Empty on SQLite, whose row triggers
 *    upsert the counters in the writing statement's transaction.
 *
 * Deletes count down (retention, erasure), so the counters are the ledger's grouping as of any
 * snapshot; a pruned campaign keeps its chart in campaign_totals.series (migration 0013).
 */
export function progressCounters(dialect: DialectName): Migration {
  return {
    /* eslint-disable @typescript-eslint/no-explicit-any */
    async up(db: Kysely<any>) {
      const run = async (trx: Kysely<any>) => {
        const table = (name: string) =>
          trx.schema
            .createTable(name)
            .addColumn('campaign_id', 'bigint', (c) => c.notNull())
            .addColumn('kind', 'text', (c) => c.notNull())
            .addColumn('second', 'bigint', (c) => c.notNull())
            .addColumn('n', 'bigint', (c) => c.notNull());
        // SQLite: WITHOUT ROWID, so the rows are stored in primary-key order and a campaign's
        // seconds are one contiguous range (a chart read is a range of the key, whatever the stats say).
        await table('campaign_progress_counts')
          .addPrimaryKeyConstraint('campaign_progress_counts_pk', ['campaign_id', 'kind', 'second'])
          .$call((t) => (dialect === 'sqlite' ? t.modifyEnd(sql`without rowid`) : t))
          .execute();
        await table('campaign_progress_count_deltas').execute();
        await trx.schema.createIndex('campaign_progress_count_deltas_campaign').on('campaign_progress_count_deltas').column('campaign_id').execute();

        if (dialect === 'postgres') {
          await createStatementDeltaTriggers(trx, 'deliveries_progress_deltas', 'deliveries_progress', (sides) =>
            `insert into campaign_progress_count_deltas (campaign_id, kind, second, n)
              select campaign_id, kind, second, sum(n) from (${sides.map(({ rows, sign }) => contributions(dialect, rows, sign)).join(' union all ')}) d
              group by campaign_id, kind, second having sum(n) <> 0;`,
          );
        } else {
          await sql`create trigger deliveries_progress_insert after insert on deliveries when new.sent_at is not null or new.outcome_at is not null begin ${sql.raw(sqliteProgressUpsert('new', '+'))} end`.execute(trx);
          await createSqliteProgressUpdateTrigger(trx, PROGRESS_UPDATE_WHEN_0019);
          await sql`create trigger deliveries_progress_delete after delete on deliveries when old.sent_at is not null or old.outcome_at is not null begin ${sql.raw(sqliteProgressUpsert('old', '-'))} end`.execute(trx);
        }
        // Backfill, after the triggers, in the same transaction (0015 says why nothing falls between).
        await sql.raw(`insert into campaign_progress_counts (campaign_id, kind, second, n)
          select campaign_id, kind, second, sum(n) from (${contributions(dialect, 'deliveries', '+')}) d
          ${dialect === 'sqlite' ? 'where true ' : ''}group by campaign_id, kind, second`).execute(trx);
      };
      if (dialect === 'postgres') await run(db);
      else await db.transaction().execute(run);
    },
    async down(db: Kysely<any>) {
      await dropDeliveriesTriggers(db, dialect, 'deliveries_progress_deltas', 'deliveries_progress');
      await db.schema.dropTable('campaign_progress_count_deltas').ifExists().execute();
      await db.schema.dropTable('campaign_progress_counts').ifExists().execute();
    },
  };
}

/** The signed (campaign_id, kind, second, n) contributions of the rows of `source`. */
function contributions(dialect: DialectName, source: string, sign: '+' | '-'): string {
  return `select campaign_id, 'sent' as kind, ${secondOf(dialect, 'sent_at')} as second, ${sign}1 as n from ${source} where sent_at is not null
           union all
           select campaign_id, case when status = 'bounced' then 'bounced' else 'delivered' end, ${secondOf(dialect, 'outcome_at')}, ${sign}1
             from ${source} where outcome_at is not null and status in ('delivered', 'bounced', 'complained')`;
}

/** SQLite: what a row trigger runs to count `row` (NEW or OLD) into (+) or out of (−) the counters. */
export function sqliteProgressUpsert(row: 'new' | 'old', sign: '+' | '-'): string {
  // A row trigger sees NEW/OLD, not a table: the one row as a derived table.
  return `insert into campaign_progress_counts (campaign_id, kind, second, n)
              select campaign_id, kind, second, sum(n) from (${contributions(
                'sqlite',
                `(select ${row}.campaign_id as campaign_id, ${row}.status as status, ${row}.sent_at as sent_at, ${row}.outcome_at as outcome_at)`,
                sign,
              )}) where true group by campaign_id, kind, second
              on conflict (campaign_id, kind, second) do update set n = n + excluded.n;`;
}

/** When this migration's SQLite update trigger runs (narrowed by migration 0027). */
export const PROGRESS_UPDATE_WHEN_0019 =
  'old.sent_at is not new.sent_at or old.outcome_at is not new.outcome_at or old.status is not new.status or old.campaign_id is not new.campaign_id';

/** SQLite: the update trigger (the old row counted out, the new one in), run `when` the condition holds. */
export async function createSqliteProgressUpdateTrigger(trx: Kysely<any>, when: string): Promise<void> {
  await sql`create trigger deliveries_progress_update after update on deliveries
            when ${sql.raw(when)}
            begin ${sql.raw(sqliteProgressUpsert('old', '-'))} ${sql.raw(sqliteProgressUpsert('new', '+'))} end`.execute(trx);
}

/** The epoch second of an epoch-ms column, as an integer (better-sqlite3 may store a JS number as REAL). */
function secondOf(dialect: DialectName, column: string): string {
  return dialect === 'postgres' ? `(${column} / 1000)` : `cast(${column} / 1000 as integer)`;
}
