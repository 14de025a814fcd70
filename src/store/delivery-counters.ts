/**
 * Reads and folds the per-campaign ledger counters (migration 0015: the triggers that keep
 * them and why a read is exact). Shared by the ledger's counts, the breaker's outcome counts
 * (event writer) and the per-provider health figures, so none of them counts ledger rows.
 */
import { sql, type Kysely } from 'kysely';
import type { Database, DeliveryStatus } from './schema.js';

export interface CounterRow {
  status: DeliveryStatus;
  provider: string;
  n: number;
  opened: number;
  clicked: number;
}

/**
 * A campaign's ledger rows per (status, provider): folded counters plus unfolded deltas, in ONE
 * statement (one snapshot), optionally only some statuses. Zero groups are left out.
 */
export async function readCounters(db: Kysely<Database>, campaignId: number, statuses?: readonly DeliveryStatus[]): Promise<CounterRow[]> {
  const part = (table: 'campaign_delivery_counts' | 'campaign_delivery_count_deltas') => {
    let q = db.selectFrom(table).select(['status', 'provider', 'n', 'opened', 'clicked']).where('campaign_id', '=', campaignId);
    if (statuses) q = q.where('status', 'in', statuses);
    return q;
  };
  const rows = await db
    .selectFrom(part('campaign_delivery_counts').unionAll(part('campaign_delivery_count_deltas')).as('c'))
    .select(['status', 'provider', sql<number>`sum(n)`.as('n'), sql<number>`sum(opened)`.as('opened'), sql<number>`sum(clicked)`.as('clicked')])
    .groupBy(['status', 'provider'])
    .execute();
  return rows
    .map((r) => ({ status: r.status, provider: r.provider, n: Number(r.n), opened: Number(r.opened), clicked: Number(r.clicked) }))
    .filter((r) => r.n !== 0 || r.opened !== 0 || r.clicked !== 0);
}

/** One chart bucket's count: `bucket` = whole `width`s since the start's second (see readProgressBuckets). */
export interface ProgressCountRow {
  bucket: number;
  kind: 'sent' | 'delivered' | 'bounced';
  n: number;
}

/**
 * A campaign's progress counters (migration 0019) grouped into chart buckets of `widthMs` (a
 * multiple of 1000) counted from the second `startedAt` falls in: bucket = (second − that
 * second) ÷ (widthMs / 1000), truncated. Bucket edges fall on whole seconds, so every ledger
 * row of a second lands in one bucket: the result is exactly the ledger's rows grouped by
 * ⌊(t − ⌊startedAt/1000⌋·1000) / widthMs⌋. Counters plus unfolded deltas in ONE statement.
 */
export async function readProgressBuckets(db: Kysely<Database>, campaignId: number, startedAt: number, widthMs: number): Promise<ProgressCountRow[]> {
  if (!Number.isInteger(widthMs / 1000) || widthMs <= 0) throw new RangeError(`chart bucket width must be a positive multiple of 1000 ms, got ${widthMs}`);
  const startSecond = Math.floor(startedAt / 1000);
  const part = (table: 'campaign_progress_counts' | 'campaign_progress_count_deltas') =>
    db.selectFrom(table).select(['kind', 'second', 'n']).where('campaign_id', '=', campaignId);
  const rows = await db
    .selectFrom(part('campaign_progress_counts').unionAll(part('campaign_progress_count_deltas')).as('c'))
    .select([sql<number>`cast((second - ${startSecond}) / ${widthMs / 1000} as integer)`.as('bucket'), 'kind', sql<number>`sum(n)`.as('n')])
    .groupBy([sql`1`, 'kind'])
    .execute();
  return rows.map((r) => ({ bucket: Number(r.bucket), kind: r.kind, n: Number(r.n) })).filter((r) => r.n !== 0);
}

/**
 * PostgreSQL: move the statement deltas (0015's and 0019's) into their counters, in one transaction (one statement:
 * DELETE … RETURNING feeding the upsert), and drop counters that fell to zero. A
 * transaction-level advisory lock keeps two folds from interleaving (they would only wait on
 * or deadlock with each other); a fold that does not get it skips, the other one does the work.
 * Returns how many delta rows were folded. SQLite keeps no deltas: a no-op there.
 */
export async function foldCounters(db: Kysely<Database>): Promise<number> {
  const pending =
    (await db.selectFrom('campaign_delivery_count_deltas').select('campaign_id').limit(1).execute()).length > 0 ||
    (await db.selectFrom('campaign_progress_count_deltas').select('campaign_id').limit(1).execute()).length > 0;
  if (!pending) return 0;
  return db.transaction().execute(async (trx) => {
    const lock = await sql<{ got: boolean }>`select pg_try_advisory_xact_lock(hashtext('campaign_delivery_counts_fold')) as got`.execute(trx);
    if (!lock.rows[0]?.got) return 0;
    const folded = await sql<{ n: number }>`
      with d as (delete from campaign_delivery_count_deltas returning campaign_id, status, provider, n, opened, clicked),
      s as (
        select campaign_id, status, provider, sum(n) as n, sum(opened) as opened, sum(clicked) as clicked, count(*) as deltas
        from d group by campaign_id, status, provider),
      up as (
        insert into campaign_delivery_counts (campaign_id, status, provider, n, opened, clicked)
        select campaign_id, status, provider, n, opened, clicked from s order by campaign_id, status, provider
        on conflict (campaign_id, status, provider) do update set
          n = campaign_delivery_counts.n + excluded.n,
          opened = campaign_delivery_counts.opened + excluded.opened,
          clicked = campaign_delivery_counts.clicked + excluded.clicked
        returning 1)
      select coalesce(sum(deltas), 0) as n from s`.execute(trx);
    await sql`delete from campaign_delivery_counts where n = 0 and opened = 0 and clicked = 0`.execute(trx);
    // The chart's per-second counters (migration 0019), the same way, under the same lock.
    const progress = await sql<{ n: number; emptied: number[] | null }>`
      with d as (delete from campaign_progress_count_deltas returning campaign_id, kind, second, n),
      s as (select campaign_id, kind, second, sum(n) as n, count(*) as deltas from d group by campaign_id, kind, second),
      up as (
        insert into campaign_progress_counts (campaign_id, kind, second, n)
        select campaign_id, kind, second, n from s order by campaign_id, kind, second
        on conflict (campaign_id, kind, second) do update set n = campaign_progress_counts.n + excluded.n
        returning campaign_id, n)
      select (select coalesce(sum(deltas), 0) from s) as n,
             (select array_agg(distinct campaign_id) from up where n = 0) as emptied`.execute(trx);
    // Seconds that fell to zero (a reset, a prune): only in the campaigns this fold emptied one of, by primary key prefix.
    const emptied = (progress.rows[0]?.emptied ?? []).map(Number);
    if (emptied.length > 0) await sql`delete from campaign_progress_counts where campaign_id = any(${emptied}) and n = 0`.execute(trx);
    return Number(folded.rows[0]?.n ?? 0) + Number(progress.rows[0]?.n ?? 0);
  });
}
