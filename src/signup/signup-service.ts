/**
 * Double opt-in against the store. The public form calls requestSignup, the confirmation
 * page calls confirmSignup (a worker sweep deletes expired requests:
 * SignupRequestsRepository.deleteExpired).
 *
 * Until confirmation, a new address exists only as a signup_requests row: there is no
 * subscriber and no list membership, so no campaign audience can include it. An address
 * that is suppressed, bounced or complained never gets a confirmation mail and cannot be
 * activated through a confirmation link.
 */
import type { ListMembersRepository } from '../store/list-members-repository.js';
import type { ListsRepository } from '../store/lists-repository.js';
import type { Transactional } from '../store/repositories.js';
import type { PendingSignup, SignupRequestsRepository } from '../store/signup-requests-repository.js';
import type { SubscriberActionLog } from '../store/subscriber-action-log.js';
import type { SubscribersRepository } from '../store/subscribers-repository.js';
import type { SuppressionsRepository } from '../store/suppressions-repository.js';

export type { PendingSignup };

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

/** What a sign-up request reads and writes in the store. */
export interface SignupRequestRepositories {
  lists: Pick<ListsRepository, 'ensureList'>;
  suppressions: Pick<SuppressionsRepository, 'isSuppressed'>;
  subscribers: Pick<SubscribersRepository, 'findByEmail'>;
  listMembers: Pick<ListMembersRepository, 'find'>;
  signupRequests: Pick<SignupRequestsRepository, 'create'>;
}

export interface SignupServiceDeps {
  repos: SignupRequestRepositories;
  now: () => number;
  /** PENDING_EXPIRY_H in ms: how long a confirmation link stays valid. */
  expiryMs: number;
  /** Counts one confirmation mail to this address; false when over the per-address limit. */
  allowMailTo: (email: string) => Promise<boolean>;
  enqueueConfirmation: (requestId: number) => Promise<void>;
}

/** Decide what a sign-up means for this address; the caller answers the same page whatever comes back. */
export async function requestSignup(deps: SignupServiceDeps, input: SignupRequestInput): Promise<SignupOutcome> {
  const { repos } = deps;
  const now = deps.now();
  const list = await repos.lists.ensureList(input.list);
  if (await repos.suppressions.isSuppressed(input.email)) return 'refused';
  const subscriber = await repos.subscribers.findByEmail(input.email);
  if (subscriber && (subscriber.status === 'bounced' || subscriber.status === 'complained')) return 'refused';
  if (subscriber && subscriber.status === 'active') {
    const member = await repos.listMembers.find(subscriber.id, list.id);
    if (member?.status === 'subscribed') return 'already-subscribed';
  }
  if (!(await deps.allowMailTo(input.email))) return 'address-limited';
  const requestId = await repos.signupRequests.create({ email: input.email, name: input.name, listId: list.id, createdAt: now, expiresAt: now + deps.expiryMs });
  await deps.enqueueConfirmation(requestId);
  return 'requested';
}

export type ConfirmOutcome =
  | { kind: 'confirmed'; email: string; listName: string }
  | { kind: 'already'; email: string; listName: string }
  | { kind: 'expired' }
  | { kind: 'unknown' }
  | { kind: 'refused' };

/** What confirming a sign-up reads and writes, all in one transaction. */
export interface ConfirmRepositories {
  signupRequests: Pick<SignupRequestsRepository, 'find' | 'claimConfirmation'>;
  suppressions: Pick<SuppressionsRepository, 'isSuppressed'>;
  subscribers: Pick<SubscribersRepository, 'findByEmail' | 'insertActiveIfMissing' | 'reactivate'>;
  listMembers: Pick<ListMembersRepository, 'setSubscribed'>;
  actionLog: Pick<SubscriberActionLog, 'record'>;
}

const CONFIRMED_REASON = 'confirmed sign-up';

/**
 * Activate a confirmed sign-up in one transaction: the request is marked confirmed first
 * (conditional update, so two clicks cannot both act), then the subscriber is created or
 * reactivated and put on the list. A bounced, complained or suppressed address is refused
 * and nothing changes.
 */
export async function confirmSignup(store: Transactional<ConfirmRepositories>, requestId: number, now: number): Promise<ConfirmOutcome> {
  return store.transaction(async (repos) => {
    const request = await repos.signupRequests.find(requestId);
    if (!request) return { kind: 'unknown' } as const;
    if (request.confirmedAt !== null) return { kind: 'already', email: request.email, listName: request.listName } as const;
    if (request.expiresAt <= now) return { kind: 'expired' } as const;

    const suppressed = await repos.suppressions.isSuppressed(request.email);
    const existing = await repos.subscribers.findByEmail(request.email);
    if (suppressed || existing?.status === 'bounced' || existing?.status === 'complained') return { kind: 'refused' } as const;

    if (!(await repos.signupRequests.claimConfirmation(requestId, now))) return { kind: 'already', email: request.email, listName: request.listName } as const;

    let subscriberId: number;
    if (!existing) {
      const row = await repos.subscribers.insertActiveIfMissing(request.email, request.name, CONFIRMED_REASON, now);
      if (row.status === 'bounced' || row.status === 'complained') throw new Error('subscriber changed during confirmation');
      subscriberId = Number(row.id);
    } else {
      subscriberId = Number(existing.id);
      // Only an unsubscribed address is reactivated: the reader asked again and proved the mailbox.
      await repos.subscribers.reactivate(subscriberId, CONFIRMED_REASON, now, existing.name ?? request.name);
    }
    await repos.listMembers.setSubscribed(subscriberId, request.listId, now);
    await repos.actionLog.record(
      { type: 'subscribe', subtype: 'double-opt-in', subscriberId, listId: request.listId, email: request.email, key: `signup-confirm:${requestId}` },
      now,
    );
    return { kind: 'confirmed', email: request.email, listName: request.listName } as const;
  });
}
