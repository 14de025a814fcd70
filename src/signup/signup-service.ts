/**
 * Double opt-in against the store. The public form calls requestSignup, the confirmation
 * page calls confirmSignup, a worker sweep calls expirePendingSignups.
 *
 * Until confirmation, a new address exists only as a signup_requests row: there is no
 * subscriber and no list membership, so no campaign audience can include it. An address
 * that is suppressed, bounced or complained never gets a confirmation mail and cannot be
 * activated through a confirmation link.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { ListsRepository } from '../store/lists-repository.js';

export type SignupOutcome =
  /** A request row was stored and its confirmation mail queued. */
  | 'requested'
  /** Already active and subscribed to this list: nothing to do. */
  | 'already-subscribed'
  /** Suppressed, bounced or complained: never mailed again through the form. */
  | 'refused'
  /** Too many confirmation mails to this address today. */
  | 'address-limited';

export interface SignupRequestInput {
  email: string;
  name: string | null;
  list: string;
}

export interface SignupServiceDeps {
  db: Kysely<Database>;
  now: () => number;
  /** PENDING_EXPIRY_H in ms: how long a confirmation link stays valid. */
  expiryMs: number;
  /** Counts one confirmation mail to this address; false when over the per-address limit. */
  allowMailTo: (email: string) => Promise<boolean>;
  enqueueConfirmation: (requestId: number) => Promise<void>;
}

/** Decide what a sign-up means for this address; the caller answers the same page whatever comes back. */
export async function requestSignup(deps: SignupServiceDeps, input: SignupRequestInput): Promise<SignupOutcome> {
  const { db } = deps;
  const now = deps.now();
  const list = await new ListsRepository(db, deps.now).ensureList(input.list);
  const suppressed = await db.selectFrom('suppressions').select('email').where('email', '=', input.email).executeTakeFirst();
  if (suppressed) return 'refused';
  const subscriber = await db.selectFrom('subscribers').select(['id', 'status']).where('email', '=', input.email).executeTakeFirst();
  if (subscriber && (subscriber.status === 'bounced' || subscriber.status === 'complained')) return 'refused';
  if (subscriber && subscriber.status === 'active') {
    const member = await db
      .selectFrom('list_members')
      .select('status')
      .where('list_id', '=', list.id)
      .where('subscriber_id', '=', subscriber.id)
      .executeTakeFirst();
    if (member?.status === 'subscribed') return 'already-subscribed';
  }
  if (!(await deps.allowMailTo(input.email))) return 'address-limited';
  const row = await db
    .insertInto('signup_requests')
    .values({
      email: input.email,
      name: input.name,
      list_id: list.id,
      created_at: now,
      expires_at: now + deps.expiryMs,
      mail_sent_at: null,
      ses_message_id: null,
      confirmed_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await deps.enqueueConfirmation(Number(row.id));
  return 'requested';
}

export interface PendingSignup {
  id: number;
  email: string;
  listId: number;
  listName: string;
  expiresAt: number;
  confirmedAt: number | null;
}

export async function findSignupRequest(db: Kysely<Database>, requestId: number): Promise<PendingSignup | undefined> {
  const row = await db
    .selectFrom('signup_requests as r')
    .innerJoin('lists as l', 'l.id', 'r.list_id')
    .select(['r.id', 'r.email', 'r.list_id', 'l.name as list_name', 'r.expires_at', 'r.confirmed_at'])
    .where('r.id', '=', requestId)
    .executeTakeFirst();
  if (!row) return undefined;
  return { id: Number(row.id), email: row.email, listId: Number(row.list_id), listName: row.list_name, expiresAt: row.expires_at, confirmedAt: row.confirmed_at };
}

export type ConfirmOutcome =
  | { kind: 'confirmed'; email: string; listName: string }
  | { kind: 'already'; email: string; listName: string }
  | { kind: 'expired' }
  | { kind: 'unknown' }
  | { kind: 'refused' };

/**
 * Activate a confirmed sign-up in one transaction: the request is marked confirmed first
 * (conditional update, so two clicks cannot both act), then the subscriber is created or
 * reactivated and put on the list. A bounced, complained or suppressed address is refused
 * and nothing changes.
 */
export async function confirmSignup(db: Kysely<Database>, requestId: number, now: number): Promise<ConfirmOutcome> {
  return db.transaction().execute(async (trx) => {
    const request = await findSignupRequest(trx, requestId);
    if (!request) return { kind: 'unknown' } as const;
    if (request.confirmedAt !== null) return { kind: 'already', email: request.email, listName: request.listName } as const;
    if (request.expiresAt <= now) return { kind: 'expired' } as const;

    const suppressed = await trx.selectFrom('suppressions').select('email').where('email', '=', request.email).executeTakeFirst();
    const existing = await trx.selectFrom('subscribers').selectAll().where('email', '=', request.email).executeTakeFirst();
    if (suppressed || existing?.status === 'bounced' || existing?.status === 'complained') return { kind: 'refused' } as const;

    const claimed = await trx
      .updateTable('signup_requests')
      .set({ confirmed_at: now })
      .where('id', '=', requestId)
      .where('confirmed_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) return { kind: 'already', email: request.email, listName: request.listName } as const;

    const name = (await trx.selectFrom('signup_requests').select('name').where('id', '=', requestId).executeTakeFirstOrThrow()).name;
    let subscriberId: number;
    if (!existing) {
      await trx
        .insertInto('subscribers')
        .values({ email: request.email, name, status: 'active', attributes: '{}', status_reason: 'confirmed sign-up', created_at: now, updated_at: now })
        .onConflict((oc) => oc.column('email').doNothing())
        .execute();
      const row = await trx.selectFrom('subscribers').select(['id', 'status']).where('email', '=', request.email).executeTakeFirstOrThrow();
      if (row.status === 'bounced' || row.status === 'complained') throw new Error('subscriber changed during confirmation');
      subscriberId = Number(row.id);
    } else {
      subscriberId = Number(existing.id);
      // Only an unsubscribed address is reactivated: the reader asked again and proved the mailbox.
      await trx
        .updateTable('subscribers')
        .set({ status: 'active', status_reason: 'confirmed sign-up', name: existing.name ?? name, updated_at: now })
        .where('id', '=', subscriberId)
        .where('status', 'in', ['active', 'unsubscribed'])
        .execute();
    }
    await trx
      .insertInto('list_members')
      .values({ list_id: request.listId, subscriber_id: subscriberId, status: 'subscribed', created_at: now, updated_at: now })
      .onConflict((oc) => oc.columns(['list_id', 'subscriber_id']).doUpdateSet({ status: 'subscribed', updated_at: now }))
      .execute();
    await trx
      .insertInto('events')
      .values({
        sns_message_id: `signup-confirm:${requestId}`,
        type: 'subscribe',
        subtype: 'double-opt-in',
        ses_message_id: null,
        email: request.email,
        campaign_id: null,
        subscriber_id: subscriberId,
        detail: `list ${request.listId}`,
        occurred_at: now,
        payload: '{}',
        created_at: now,
      })
      .onConflict((oc) => oc.column('sns_message_id').doNothing())
      .execute();
    return { kind: 'confirmed', email: request.email, listName: request.listName } as const;
  });
}

/**
 * Delete sign-up requests past their expiry (confirmed ones are bookkeeping by then, and
 * unconfirmed ones are dead: their links say "expired"). Returns how many were deleted.
 */
export async function expirePendingSignups(db: Kysely<Database>, now: number): Promise<number> {
  const result = await db.deleteFrom('signup_requests').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
