import type { Kysely } from 'kysely';
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

  constructor(private readonly db: Kysely<Database>) {
    this.scratch = withScratch(db);
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
   */
  async writeBatch(importId: string, listId: number, batch: readonly ImportRow[], now: number): Promise<ImportBatchResult> {
    return this.db.transaction().execute(async (trx) => {
      const scratch = withScratch(trx);
      // Duplicates inside this batch, then against earlier batches of the same run.
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
      const fresh = new Set(
        (
          await scratch
            .insertInto('import_seen')
            .values(unique.map((r) => ({ import_id: importId, email: r.email, line: r.line, created_at: now })))
            .onConflict((oc) => oc.columns(['import_id', 'email']).doNothing())
            .returning('email')
            .execute()
        ).map((r) => r.email),
      );
      const rows = unique.filter((r) => fresh.has(r.email));
      if (rows.length < unique.length) {
        const earlier = new Map(
          (
            await scratch
              .selectFrom('import_seen')
              .select(['email', 'line'])
              .where('import_id', '=', importId)
              .where('email', 'in', unique.filter((r) => !fresh.has(r.email)).map((r) => r.email))
              .execute()
          ).map((r) => [r.email, r.line]),
        );
        for (const r of unique) if (!fresh.has(r.email)) duplicates.push({ line: r.line, email: r.email, firstLine: earlier.get(r.email)! });
      }
      if (rows.length === 0) return { imported: 0, updated: 0, suppressed: 0, duplicates };

      const suppressed = await new SuppressionsRepository(trx).suppressedAmong(rows.map((r) => r.email));
      const wanted = rows.filter((r) => !suppressed.has(r.email));
      if (wanted.length === 0) return { imported: 0, updated: 0, suppressed: suppressed.size, duplicates };
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
      return { imported: wanted.length - existing.size, updated: existing.size, suppressed: suppressed.size, duplicates };
    });
  }
}
