import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { parseAttributes, SubscribersRepository } from './subscribers-repository.js';
import { SuppressionsRepository } from './suppressions-repository.js';

/** One validated CSV row (normalised address, parsed name, non-empty attribute cells). */
export interface ImportRow {
  line: number;
  email: string;
  name: string | null;
  attributes: Record<string, string>;
}

export interface ImportDuplicate {
  line: number;
  email: string;
  firstLine: number;
}

export interface ImportBatchResult {
  imported: number;
  updated: number;
  suppressed: number;
  duplicates: ImportDuplicate[];
}

/** The scratch table of addresses seen by one import run (migration 0002). */
interface ImportSeenTable {
  import_id: string;
  email: string;
  line: number;
  created_at: number;
}

type ImportDatabase = Database & { import_seen: ImportSeenTable };

function withScratch(db: Kysely<Database>): Kysely<ImportDatabase> {
  return db.withTables<{ import_seen: ImportSeenTable }>();
}

/**
 * The store side of a streamed CSV import: batches written in one transaction each, and
 * duplicates found through a scratch table (import_seen) rather than an in-memory set of
 * every address, so memory stays flat however long the file is.
 */
export class SubscriberImportRepository {
  private readonly scratch: Kysely<ImportDatabase>;
  private readonly postgres: boolean;
  /** Whose turn it is to record addresses in the scratch rows, per run (see writeBatch). */
  private readonly seenTurns = new RunTurns();

  constructor(private readonly db: Kysely<Database>) {
    this.scratch = withScratch(db);
    this.postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  }

  /** Remove scratch rows of runs that crashed (created before this instant). */
  async clearStaleScratch(before: number): Promise<void> {
    await this.scratch.deleteFrom('import_seen').where('created_at', '<', before).execute();
  }

  /** Remove this run's scratch rows (at the end of the run, whatever its outcome). */
  async clearScratch(importId: string): Promise<void> {
    await this.scratch.deleteFrom('import_seen').where('import_id', '=', importId).execute();
  }

  /**
   * Write one batch in one transaction: report duplicates (in the batch and against
   * earlier batches of the run), skip suppressed addresses, upsert subscribers (status
   * never in the update set), add missing memberships as `subscribed` (an existing
   * membership, possibly `unsubscribed`, is left alone). A failing batch leaves nothing
   * behind, its scratch rows included.
   *
   * Batches of one run may be written concurrently (the import keeps two in flight, so that
   * on PostgreSQL two server processes do the index and foreign-key work). File order still
   * decides which line of a repeated address wins, because each batch records its addresses
   * in the run's scratch rows only once the batch before it (in call order) has recorded
   * its own: a later batch holding the same address then waits, in the unique index, for the
   * earlier batch's transaction, and finds the address taken once it commits (or takes it,
   * if that batch failed and left nothing). Call order is file order: the turn is claimed
   * synchronously, before this method first waits.
   *
   * On PostgreSQL the batch's new addresses then go in set-based, in one statement over one
   * array per column (`mergeNewRows`); only addresses that exist already take the row path
   * that merges their attributes. SQLite takes the row path for the whole batch (issue #16:
   * the 1M-row import was bound by the per-row work of the batch statements).
   */
  async writeBatch(importId: string, listId: number, batch: readonly ImportRow[], now: number): Promise<ImportBatchResult> {
    const turn = this.seenTurns.take(importId);
    try {
      // Duplicates inside this batch first; those against earlier batches come from the scratch rows.
      const duplicates: ImportDuplicate[] = [];
      const firstInBatch = new Map<string, number>();
      const unique: ImportRow[] = [];
      for (const row of batch) {
        const firstLine = firstInBatch.get(row.email);
        if (firstLine === undefined) {
          firstInBatch.set(row.email, row.line);
          unique.push(row);
        } else duplicates.push({ line: row.line, email: row.email, firstLine });
      }
      // Waited for before taking a connection, so a batch waiting for its turn never holds one
      // that the batch before it needs.
      await turn.ready;
      return await this.db.transaction().execute(async (trx) => {
        const rows = await markSeen(trx, importId, unique, now, duplicates);
        turn.done();
        if (rows.length === 0) return { imported: 0, updated: 0, suppressed: 0, duplicates };
        if (this.postgres) {
          const merged = await mergeNewRows(trx, listId, rows, now);
          const existing = await upsertRows(trx, listId, merged.existing, now);
          return { imported: merged.inserted + existing.imported, updated: existing.updated, suppressed: merged.suppressed, duplicates };
        }
        const suppressed = await new SuppressionsRepository(trx).suppressedAmong(rows.map((r) => r.email));
        const written = await upsertRows(trx, listId, rows.filter((r) => !suppressed.has(r.email)), now);
        return { ...written, suppressed: suppressed.size, duplicates };
      });
    } finally {
      turn.done();
    }
  }
}

/**
 * Turns per import run, in call order: a turn is ready once the one taken before it (for the
 * same run) is done. Done is idempotent, and a run's entry goes once its last turn is done.
 */
class RunTurns {
  private readonly last = new Map<string, Promise<void>>();

  take(runId: string): { ready: Promise<void>; done: () => void } {
    const ready = this.last.get(runId) ?? Promise.resolve();
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    this.last.set(runId, finished);
    void finished.then(() => {
      if (this.last.get(runId) === finished) this.last.delete(runId);
    });
    return { ready, done };
  }
}

/**
 * Record the batch's addresses in the run's scratch rows, in address order (two batches in
 * flight then meet on shared addresses in the same order, so neither waits for the other in
 * a cycle); those already there (an earlier batch had them) are added to `duplicates` with
 * their first line. Returns the rest, in file order.
 */
async function markSeen(trx: Kysely<Database>, importId: string, unique: readonly ImportRow[], now: number, duplicates: ImportDuplicate[]): Promise<ImportRow[]> {
  if (unique.length === 0) return [];
  const byAddress = [...unique].sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
  const fresh = new Set(
    (
      await withScratch(trx)
        .insertInto('import_seen')
        .values(byAddress.map((r) => ({ import_id: importId, email: r.email, line: r.line, created_at: now })))
        .onConflict((oc) => oc.columns(['import_id', 'email']).doNothing())
        .returning('email')
        .execute()
    ).map((r) => r.email),
  );
  // Read after the insert, which waited for any batch in flight that held the same address.
  if (fresh.size < unique.length) duplicates.push(...(await earlierLines(trx, importId, unique.filter((r) => !fresh.has(r.email)))));
  return unique.filter((r) => fresh.has(r.email));
}

/** Rows whose address the run's scratch rows already hold, as duplicates of the line recorded there. */
async function earlierLines(trx: Kysely<Database>, importId: string, rows: readonly ImportRow[]): Promise<ImportDuplicate[]> {
  const earlier = new Map(
    (
      await withScratch(trx)
        .selectFrom('import_seen')
        .select(['email', 'line'])
        .where('import_id', '=', importId)
        .where('email', 'in', rows.map((r) => r.email))
        .execute()
    ).map((r) => [r.email, r.line]),
  );
  return rows.map((r) => ({ line: r.line, email: r.email, firstLine: earlier.get(r.email)! }));
}

/**
 * The row path: read the rows' existing subscribers, merge each one's attributes in order
 * (old keys first, the file's values winning) and keep its name when the file has none,
 * upsert them all (status never in the update set), and add missing memberships.
 */
async function upsertRows(trx: Kysely<Database>, listId: number, wanted: readonly ImportRow[], now: number): Promise<{ imported: number; updated: number }> {
  if (wanted.length === 0) return { imported: 0, updated: 0 };
  const existing = new Map((await new SubscribersRepository(trx).findManyByEmail(wanted.map((r) => r.email))).map((r) => [r.email, r]));
  const values = wanted.map((r) => {
    const old = existing.get(r.email);
    const hasAttributes = Object.keys(r.attributes).length > 0;
    return {
      email: r.email,
      name: r.name ?? old?.name ?? null,
      status: 'active' as const,
      attributes: old
        ? hasAttributes
          ? JSON.stringify({ ...parseAttributes(old.attributes), ...r.attributes })
          : old.attributes
        : JSON.stringify(r.attributes),
      status_reason: null,
      created_at: now,
      updated_at: now,
    };
  });
  const ids = await trx
    .insertInto('subscribers')
    .values(values)
    .onConflict((oc) =>
      oc.column('email').doUpdateSet((eb) => ({
        name: eb.ref('excluded.name'),
        attributes: eb.ref('excluded.attributes'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .returning('id')
    .execute();
  await trx
    .insertInto('list_members')
    .values(ids.map(({ id }) => ({ list_id: listId, subscriber_id: id, status: 'subscribed' as const, created_at: now, updated_at: now })))
    .onConflict((oc) => oc.columns(['list_id', 'subscriber_id']).doNothing())
    .execute();
  return { imported: wanted.length - existing.size, updated: existing.size };
}

/**
 * PostgreSQL, one statement for the batch's fresh rows (recorded in the scratch rows by this
 * batch), over one array per column: leave out suppressed addresses, insert the addresses no
 * subscriber has yet and their memberships. Returns the rows left for the row path: addresses
 * that exist already (their attributes are merged there), and any a concurrent writer (a
 * sign-up) inserted after this statement's snapshot, which `on conflict do nothing` skipped
 * and the row path then finds existing, so nothing is lost or written twice.
 */
async function mergeNewRows(
  trx: Kysely<Database>,
  listId: number,
  rows: readonly ImportRow[],
  now: number,
): Promise<{ inserted: number; suppressed: number; existing: ImportRow[] }> {
  const lines = rows.map((r) => r.line);
  const emails = rows.map((r) => r.email);
  const names = rows.map((r) => r.name);
  const attributes = rows.map((r) => JSON.stringify(r.attributes));
  const { rows: settled } = await sql<{ kind: 'suppressed' | 'inserted'; email: string }>`
    with input as (
      select * from unnest(${lines}::int[], ${emails}::text[], ${names}::text[], ${attributes}::text[]) as t(line, email, name, attributes)
    ),
    suppressed as (
      select i.email from input i join suppressions s on s.email = i.email
    ),
    inserted as (
      insert into subscribers (email, name, status, attributes, status_reason, created_at, updated_at)
      select i.email, i.name, 'active', i.attributes, null, ${now}::bigint, ${now}::bigint from input i
      where not exists (select 1 from suppressed x where x.email = i.email)
        and not exists (select 1 from subscribers s where s.email = i.email)
      order by i.line
      on conflict (email) do nothing
      returning id, email
    ),
    members as (
      insert into list_members (list_id, subscriber_id, status, created_at, updated_at)
      select ${listId}::bigint, id, 'subscribed', ${now}::bigint, ${now}::bigint from inserted
      on conflict (list_id, subscriber_id) do nothing
    )
    select 'suppressed' as kind, email from suppressed
    union all select 'inserted', email from inserted
  `.execute(trx);
  const done = new Set<string>();
  let inserted = 0;
  for (const row of settled) {
    done.add(row.email);
    if (row.kind === 'inserted') inserted++;
  }
  return { inserted, suppressed: done.size - inserted, existing: rows.filter((r) => !done.has(r.email)) };
}
