import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** A double opt-in request with the name of the list it asks for. */
export interface PendingSignup {
  id: number;
  email: string;
  name: string | null;
  listId: number;
  listName: string;
  expiresAt: number;
  /** When SES accepted the confirmation mail, else null. */
  mailSentAt: number | null;
  confirmedAt: number | null;
}

/**
 * Sign-up requests (signup_requests): until one is confirmed, the address exists only
 * here, with no subscriber row and no membership, so no audience can include it.
 */
export class SignupRequestsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Store a new request; returns its id. */
  async create(input: { email: string; name: string | null; listId: number; createdAt: number; expiresAt: number }): Promise<number> {
    const row = await this.db
      .insertInto('signup_requests')
      .values({
        email: input.email,
        name: input.name,
        list_id: input.listId,
        created_at: input.createdAt,
        expires_at: input.expiresAt,
        mail_sent_at: null,
        ses_message_id: null,
        confirmed_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  async find(requestId: number): Promise<PendingSignup | undefined> {
    const row = await this.db
      .selectFrom('signup_requests as r')
      .innerJoin('lists as l', 'l.id', 'r.list_id')
      .select(['r.id', 'r.email', 'r.name', 'r.list_id', 'l.name as list_name', 'r.expires_at', 'r.mail_sent_at', 'r.confirmed_at'])
      .where('r.id', '=', requestId)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      id: Number(row.id),
      email: row.email,
      name: row.name,
      listId: Number(row.list_id),
      listName: row.list_name,
      expiresAt: row.expires_at,
      mailSentAt: row.mail_sent_at,
      confirmedAt: row.confirmed_at,
    };
  }

  /**
   * Mark the request confirmed. Conditional on it not being confirmed yet, so of two
   * concurrent clicks exactly one gets true and goes on to activate the subscriber.
   */
  async claimConfirmation(requestId: number, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('signup_requests')
      .set({ confirmed_at: at })
      .where('id', '=', requestId)
      .where('confirmed_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Remember that SES accepted the confirmation mail (a retried job then skips it). */
  async markMailSent(requestId: number, sesMessageId: string, at: number): Promise<void> {
    await this.db.updateTable('signup_requests').set({ mail_sent_at: at, ses_message_id: sesMessageId }).where('id', '=', requestId).execute();
  }

  /**
   * Delete requests past their expiry (confirmed ones are bookkeeping by then, and
   * unconfirmed ones are dead: their links say "expired"). Returns how many were deleted.
   */
  async deleteExpired(at: number): Promise<number> {
    const result = await this.db.deleteFrom('signup_requests').where('expires_at', '<=', at).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
