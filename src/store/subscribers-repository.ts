import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { Database, Subscriber, SubscriberStatus } from './schema.js';
import { normaliseEmail, parseEmail, parseName } from '../subscribers/subscriber-fields.js';

export interface SubscriberInput {
  email: string;
  /** Undefined or empty keeps an existing name. */
  name?: string | null;
  /** Merged over existing attributes (keys given here win). */
  attributes?: Record<string, unknown>;
}

export interface UpsertResult {
  subscriber: Subscriber;
  created: boolean;
}

export interface ExportRow {
  id: number;
  email: string;
  name: string | null;
  status: SubscriberStatus;
  membership: 'subscribed' | 'unsubscribed';
  attributes: string;
  created_at: number;
}

export interface SubscriberSearch {
  /** Only members (any membership status) of the list with this name. */
  list?: string;
  status?: SubscriberStatus;
  /** Case-insensitive substring of the address or the name (LIKE wildcards match literally). */
  q?: string;
  limit: number;
  offset: number;
}

/** `q` as one FTS5 phrase (a substring for the trigram tokenizer): quoted, inner quotes doubled. */
function ftsPhrase(q: string): string {
  return `"${q.replace(/"/g, '""')}"`;
}

/** Escape LIKE wildcards so a search for `a_b%` matches literally. */
function likePattern(q: string): string {
  return `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Subscribers: one row per normalised address. Status changes never happen by accident here. */
export class SubscribersRepository {
  /** SQLite has the trigram table of migration 0018 (Postgres serves substrings from pg_trgm indexes). */
  private readonly sqliteTrigram: boolean;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {
    this.sqliteTrigram = !(db.getExecutor().adapter instanceof PostgresAdapter);
  }

  /**
   * Insert a subscriber, or update name/attributes of an existing one. Status is never
   * touched: adding someone who unsubscribed, bounced or complained keeps them out.
   * Validates and normalises the address (trim + lower-case) and the name.
   */
  async upsert(input: SubscriberInput): Promise<UpsertResult> {
    const email = parseEmail(input.email);
    const name = parseName(input.name);
    const existing = await this.findByEmail(email);
    const now = this.now();
    if (!existing) {
      const inserted = await this.db
        .insertInto('subscribers')
        .values({
          email,
          name,
          status: 'active',
          attributes: JSON.stringify(input.attributes ?? {}),
          status_reason: null,
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) => oc.column('email').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted) return { subscriber: inserted, created: true };
      // Lost a race with another writer: fall through to the update path.
    }
    const current = existing ?? (await this.findByEmail(email))!;
    const attributes = input.attributes
      ? JSON.stringify({ ...parseAttributes(current.attributes), ...input.attributes })
      : current.attributes;
    const updated = await this.db
      .updateTable('subscribers')
      .set({ name: name ?? current.name, attributes, updated_at: now })
      .where('id', '=', current.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return { subscriber: updated, created: false };
  }

  async findByEmail(email: string): Promise<Subscriber | undefined> {
    return this.db.selectFrom('subscribers').selectAll().where('email', '=', normaliseEmail(email)).executeTakeFirst();
  }

  async findById(id: number): Promise<Subscriber | undefined> {
    return this.db.selectFrom('subscribers').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Existing subscribers among these normalised addresses (one query; for batched import). */
  async findManyByEmail(emails: readonly string[]): Promise<Subscriber[]> {
    if (emails.length === 0) return [];
    return this.db.selectFrom('subscribers').selectAll().where('email', 'in', emails).execute();
  }

  /**
   * Set a subscriber's status by address (SES bounce/complaint handling, operator action).
   * Returns the updated row, or undefined when no subscriber has that address.
   */
  async setStatusByEmail(email: string, status: SubscriberStatus, reason: string | null): Promise<Subscriber | undefined> {
    return this.db
      .updateTable('subscribers')
      .set({ status, status_reason: reason, updated_at: this.now() })
      .where('email', '=', normaliseEmail(email))
      .returningAll()
      .executeTakeFirst();
  }

  /**
   * The subscriber with this (normalised) address, inserted as active with this reason if
   * missing. An existing row is returned as it is: the caller decides what its status means.
   */
  async insertActiveIfMissing(email: string, name: string | null, reason: string, at: number): Promise<Subscriber> {
    await this.db
      .insertInto('subscribers')
      .values({ email, name, status: 'active', attributes: '{}', status_reason: reason, created_at: at, updated_at: at })
      .onConflict((oc) => oc.column('email').doNothing())
      .execute();
    return this.db.selectFrom('subscribers').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
  }

  /**
   * Back to active after the reader asked again (confirmed sign-up, resubscribe). Only an
   * active or unsubscribed status changes: a bounce or complaint that landed meanwhile is
   * the stronger signal and is never overwritten. `name`, when given, is set too.
   */
  async reactivate(id: number, reason: string, at: number, name?: string | null): Promise<void> {
    await this.db
      .updateTable('subscribers')
      .set({ status: 'active', status_reason: reason, updated_at: at, ...(name !== undefined ? { name } : {}) })
      .where('id', '=', id)
      .where('status', 'in', ['active', 'sunset', 'unsubscribed'])
      .execute();
  }

  /** `sunset` → `active` (the reader asked to keep receiving); false when the status was anything else. */
  async endSunset(id: number, reason: string, at: number): Promise<boolean> {
    const rows = await this.db
      .updateTable('subscribers')
      .set({ status: 'active', status_reason: reason, updated_at: at })
      .where('id', '=', id)
      .where('status', '=', 'sunset')
      .returning('id')
      .execute();
    return rows.length > 0;
  }

  /**
   * Unsubscribe: the membership of this list becomes `unsubscribed` and the subscriber's
   * status becomes `unsubscribed` (so no list mails them). A bounced or complained status
   * is kept, being the stronger signal. Returns false if the subscriber does not exist.
   */
  async unsubscribe(subscriberId: number, listId: number, reason = 'unsubscribed'): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const now = this.now();
      await trx
        .updateTable('list_members')
        .set({ status: 'unsubscribed', updated_at: now })
        .where('list_id', '=', listId)
        .where('subscriber_id', '=', subscriberId)
        // An unsubscribed membership keeps its time: the unsubscribe page's one-time
        // resubscribe button is bound to it (src/http/unsubscribe/unsubscribe-routes.ts).
        .where('status', '!=', 'unsubscribed')
        .execute();
      const found = await trx.selectFrom('subscribers').select('status').where('id', '=', subscriberId).executeTakeFirst();
      if (!found) return false;
      await trx
        .updateTable('subscribers')
        .set({ status: 'unsubscribed', status_reason: reason, updated_at: now })
        .where('id', '=', subscriberId)
        .where('status', 'in', ['active', 'sunset'])
        .execute();
      return true;
    });
  }

  /**
   * Erase a subscriber's personal data (row, memberships) but keep a suppression with
   * reason 'removed' so the address is never mailed again, even if re-imported.
   * The suppression is written even when no subscriber row exists. Returns true when a
   * subscriber row was deleted.
   */
  async remove(email: string, detail: string | null = null): Promise<boolean> {
    const normalised = normaliseEmail(email);
    return this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('suppressions')
        .values({ email: normalised, reason: 'removed', detail, created_at: this.now() })
        .onConflict((oc) => oc.column('email').doNothing())
        .execute();
      const row = await trx.selectFrom('subscribers').select('id').where('email', '=', normalised).executeTakeFirst();
      if (!row) return false;
      await trx.deleteFrom('list_members').where('subscriber_id', '=', row.id).execute();
      await trx.deleteFrom('subscribers').where('id', '=', row.id).execute();
      return true;
    });
  }

  /** One page of a list's members for export, by keyset on subscriber id (all statuses). */
  async exportPage(listId: number, afterId: number, limit: number): Promise<ExportRow[]> {
    return this.db
      .selectFrom('list_members as m')
      .innerJoin('subscribers as s', 's.id', 'm.subscriber_id')
      .select(['s.id', 's.email', 's.name', 's.status', 'm.status as membership', 's.attributes', 's.created_at'])
      .where('m.list_id', '=', listId)
      // The keyset bound on both sides of the join: see AudienceRepository's `filtered`.
      .where('m.subscriber_id', '>', afterId)
      .where('s.id', '>', afterId)
      .orderBy('m.subscriber_id')
      .limit(limit)
      .execute();
  }

  /** One page of matching addresses in id order, and how many match in all (API and dashboard search). */
  async search(query: SubscriberSearch): Promise<{ emails: string[]; total: number }> {
    let base = this.db.selectFrom('subscribers as s');
    if (query.list) {
      base = base
        .innerJoin('list_members as m', 'm.subscriber_id', 's.id')
        .innerJoin('lists as l', 'l.id', 'm.list_id')
        .where('l.name', '=', query.list) as unknown as typeof base;
    }
    if (query.status) base = base.where('s.status', '=', query.status);
    if (query.q) {
      const pattern = likePattern(query.q);
      // SQLite: narrow to the trigram index first (migration 0018); the LIKE below still decides.
      if (this.sqliteTrigram && [...query.q].length >= 3) base = base.where('s.id', 'in', sql<number>`(select rowid from subscribers_search where subscribers_search match ${ftsPhrase(query.q)})`);
      base = base.where((eb) =>
        eb.or([
          eb(sql`lower(s.email)`, 'like', sql`${pattern} escape '\\'`),
          eb(sql`lower(coalesce(s.name, ''))`, 'like', sql`${pattern} escape '\\'`),
        ]),
      );
    }
    const [countRow, rows] = await Promise.all([
      base.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
      // With a substring, order by `id + 0`: the page then comes from the same index lookup as
      // the count (trigram indexes on Postgres) and a sort of the matches, instead of a walk of
      // the primary key in id order that reads every subscriber when matches are rare.
      base
        .select('s.email')
        .orderBy(query.q ? sql`s.id + 0` : sql`s.id`)
        .limit(query.limit)
        .offset(query.offset)
        .execute(),
    ]);
    return { emails: rows.map((r) => r.email), total: Number(countRow.n) };
  }

  async count(): Promise<number> {
    const row = await this.db.selectFrom('subscribers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

export function parseAttributes(json: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(json);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
