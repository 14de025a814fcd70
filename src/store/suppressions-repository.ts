import type { Kysely } from 'kysely';
import type { Database, SuppressionReason } from './schema.js';
import { normaliseEmail } from '../subscribers/subscriber-fields.js';

export interface Suppression {
  email: string;
  reason: SuppressionReason;
  detail: string | null;
  created_at: number;
}

/**
 * Addresses that must never be mailed again (hard bounce, complaint, `subscribers remove`).
 * Keyed by normalised address so a suppression outlives the subscriber row.
 */
export class SuppressionsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Suppress an address. The first reason wins (a complaint later followed by `remove`
   * still reads "complained"). Returns true when the suppression is new.
   */
  async suppress(email: string, reason: SuppressionReason, detail: string | null = null): Promise<boolean> {
    const rows = await this.db
      .insertInto('suppressions')
      .values({ email: normaliseEmail(email), reason, detail, created_at: this.now() })
      .onConflict((oc) => oc.column('email').doNothing())
      .returning('email')
      .execute();
    return rows.length > 0;
  }

  async isSuppressed(email: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('suppressions')
      .select('email')
      .where('email', '=', normaliseEmail(email))
      .executeTakeFirst();
    return row !== undefined;
  }

  async find(email: string): Promise<Suppression | undefined> {
    return this.db.selectFrom('suppressions').selectAll().where('email', '=', normaliseEmail(email)).executeTakeFirst();
  }

  /** The suppressions of these (normalised) addresses, by address; one query per call. */
  async findMany(emails: readonly string[]): Promise<Map<string, Suppression>> {
    if (emails.length === 0) return new Map();
    const rows = await this.db.selectFrom('suppressions').selectAll().where('email', 'in', emails).execute();
    return new Map(rows.map((r) => [r.email, r]));
  }

  /** Which of these (normalised) addresses are suppressed; one query per call. */
  async suppressedAmong(emails: readonly string[]): Promise<Set<string>> {
    if (emails.length === 0) return new Set();
    const rows = await this.db.selectFrom('suppressions').select('email').where('email', 'in', emails).execute();
    return new Set(rows.map((r) => r.email));
  }

  /** Lift a suppression (an operator decision, e.g. a bounce that was the receiver's fault). */
  async unsuppress(email: string): Promise<boolean> {
    const result = await this.db.deleteFrom('suppressions').where('email', '=', normaliseEmail(email)).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async count(): Promise<number> {
    const row = await this.db.selectFrom('suppressions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
