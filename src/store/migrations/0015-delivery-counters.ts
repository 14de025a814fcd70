import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../db.js';
import { providerOfEmailSql } from '../provider-sql.js';
import { createStatementDeltaTriggers, dropDeliveriesTriggers, type DeltaSide } from './deliveries-triggers.js';

/**
 * SQLite: the row triggers that upsert campaign_delivery_counts, with the mailbox provider
 * expression `provider` over the column `email` (default: providerOfEmailSql as it compiles now;
 * 0015 creates them, 0023 re-creates them with the cheaper form of that expression, 0025 with a
 * lookup in the table mailbox_provider_domains; the same result each time).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function createSqliteCounterTriggers(trx: Kysely<any>, provider = providerOfEmailSql(trx, 'email').compile(trx).sql): Promise<void> {
  const upsert = (row: 'new' | 'old', sign: '+' | '-') =>
    sql.raw(`insert into campaign_delivery_counts (campaign_id, status, provider, n, opened, clicked)
              select campaign_id, status, ${provider}, ${sign}1, ${sign}(opened_at is not null), ${sign}(clicked_at is not null)
              from (select ${row}.campaign_id as campaign_id, ${row}.status as status, ${row}.email as email, ${row}.opened_at as opened_at, ${row}.clicked_at as clicked_at) where true
              on conflict (campaign_id, status, provider) do update set n = n + excluded.n, opened = opened + excluded.opened, clicked = clicked + excluded.clicked;`);
  await sql`create trigger deliveries_counts_insert after insert on deliveries begin ${upsert('new', '+')} end`.execute(trx);
  await sql`create trigger deliveries_counts_update after update on deliveries
            when old.status is not new.status or old.campaign_id is not new.campaign_id or old.email is not new.email
              or (old.opened_at is null) <> (new.opened_at is null) or (old.clicked_at is null) <> (new.clicked_at is null)
            begin ${upsert('old', '-')} ${upsert('new', '+')} end`.execute(trx);
  await sql`create trigger deliveries_counts_delete after delete on deliveries begin ${upsert('old', '-')} end`.execute(trx);
}

/** SQLite: drop those triggers (to re-create them with another provider expression). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function dropSqliteCounterTriggers(trx: Kysely<any>): Promise<void> {
  await dropDeliveriesTriggers(trx, 'sqlite', 'deliveries_count_deltas', 'deliveries_counts');
}

/**
 * Per-campaign ledger counters (issue #16), maintained by the database itself so that every
 * path that writes `deliveries` — fan-out insert, canary wave, claim, sent batch, failed /
 * skipped / release, the reconciler's requeue, cancel, the event writer's outcomes and
 * opens/clicks, retention's deletes, a cascade — is counted by construction, with no code
 * path to forget. Stats, the dashboard list, the live poll, completion and the breaker read
 * them instead of counting the campaign's rows on every request.
 *
 *  - campaign_delivery_counts (campaign_id, status, provider) → n, opened, clicked: the folded
 *    counters. `provider` is the mailbox provider of the row's address (providerOfEmailSql as
 *    of this migration), so the breaker and the provider table drop their per-provider GROUP BY
 *    of the ledger too. opened/clicked = rows with opened_at/clicked_at set.
 *  - campaign_delivery_count_deltas: PostgreSQL only holds rows here (the table exists on both
 *    backends so the read is one query). Append-only: a STATEMENT-level AFTER trigger with
 *    transition tables inserts, per statement, the net change per (campaign, status, provider)
 *    of the rows that statement wrote. No statement of the send path updates a shared row, so
 *    concurrent batches neither wait for nor deadlock with each other on a counter.
 *    DeliveryLedger.foldCounters (the reconciler's sweep) moves the deltas into the counters:
 *    one statement `DELETE … RETURNING` feeding an upsert, under a transaction-level advisory
 *    lock so two folds never interleave.
 *  - SQLite (one writer at a time, no transition tables): row-level triggers upsert the
 *    counters directly in the writing statement's transaction.
 *
 * Consistency, the argument: a delta (or the SQLite upsert) is written by a trigger in the
 * same transaction as the ledger change it describes, so it commits or rolls back with it —
 * never counted twice, never lost. The fold deletes a delta and adds it to the counter in one
 * transaction; a delta row can be deleted by one fold only (the second DELETE finds it gone).
 * A read sums the counters and the unfolded deltas of the campaign in ONE statement, i.e. in
 * one snapshot, in which each committed delta is in exactly one of the two tables; the sum is
 * therefore exactly the GROUP BY of the ledger as of that snapshot. Backfill: the triggers are
 * created before the existing rows are counted, in one transaction that holds the lock
 * CREATE TRIGGER takes on `deliveries` (Postgres: the migrator's transaction; SQLite: an
 * explicit one), so no write can fall between the count and the first trigger.
 * The provider mapping is compiled into the triggers here: a change to PROVIDER_DOMAINS needs a
 * migration that re-creates them and recounts (test/store/delivery-counters.test.ts compares
 * the counters per provider with providerOfEmailSql over the ledger, so drift shows).
 * Pruned campaigns keep reading campaign_totals (their counters fall to zero as rows go).
 */
export function deliveryCounters(dialect: DialectName): Migration {
  return {
    /* eslint-disable @typescript-eslint/no-explicit-any */
    async up(db: Kysely<any>) {
      const provider = (column: string) => sql.raw(providerOfEmailSql(db, column).compile(db).sql);
      const run = async (trx: Kysely<any>) => {
        // The counters and their deltas have the same columns (schema.ts: CampaignDeliveryCountsTable).
        const counterTable = (name: string) =>
          trx.schema
            .createTable(name)
            .addColumn('campaign_id', 'bigint', (c) => c.notNull())
            .addColumn('status', 'text', (c) => c.notNull())
            .addColumn('provider', 'text', (c) => c.notNull())
            .addColumn('n', 'bigint', (c) => c.notNull())
            .addColumn('opened', 'bigint', (c) => c.notNull())
            .addColumn('clicked', 'bigint', (c) => c.notNull());
        await counterTable('campaign_delivery_counts').addPrimaryKeyConstraint('campaign_delivery_counts_pk', ['campaign_id', 'status', 'provider']).execute();
        await counterTable('campaign_delivery_count_deltas').execute();
        await trx.schema.createIndex('campaign_delivery_count_deltas_campaign').on('campaign_delivery_count_deltas').column('campaign_id').execute();

        if (dialect === 'postgres') {
          const side = ({ rows, sign }: DeltaSide) =>
            `select campaign_id, status, ${provider('email').compile(trx).sql} as provider, ${sign}1 as n, ` +
            `${sign}(case when opened_at is not null then 1 else 0 end) as opened, ${sign}(case when clicked_at is not null then 1 else 0 end) as clicked from ${rows}`;
          await createStatementDeltaTriggers(trx, 'deliveries_count_deltas', 'deliveries_counts', (sides) =>
            `insert into campaign_delivery_count_deltas (campaign_id, status, provider, n, opened, clicked)
              select campaign_id, status, provider, sum(n), sum(opened), sum(clicked)
              from (${sides.map(side).join(' union all ')}) d
              group by campaign_id, status, provider
              having sum(n) <> 0 or sum(opened) <> 0 or sum(clicked) <> 0;`,
          );
        } else {
          await createSqliteCounterTriggers(trx);
        }
        // Backfill, after the triggers, in the same transaction (see above).
        await sql`insert into campaign_delivery_counts (campaign_id, status, provider, n, opened, clicked)
          select campaign_id, status, ${provider('email')}, count(*), count(opened_at), count(clicked_at)
          from deliveries group by campaign_id, status, ${provider('email')}`.execute(trx);
      };
      if (dialect === 'postgres') await run(db);
      else await db.transaction().execute(run);
    },
    async down(db: Kysely<any>) {
      await dropDeliveriesTriggers(db, dialect, 'deliveries_count_deltas', 'deliveries_counts');
      await db.schema.dropTable('campaign_delivery_count_deltas').ifExists().execute();
      await db.schema.dropTable('campaign_delivery_counts').ifExists().execute();
    },
  };
}
