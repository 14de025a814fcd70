/**
 * "I unsubscribed by mistake": put a reader back on the list from the unsubscribe page.
 * Only for addresses whose own status is active, sunset or unsubscribed and that are not
 * suppressed: a bounce or a complaint is a stronger signal than a click and stays.
 * A `sunset` reader (set aside for not engaging) is eligible even while still on the list.
 */
import type { ListMembersRepository, MemberStanding } from '../store/list-members-repository.js';
import type { Transactional } from '../store/repositories.js';
import type { SubscriberActionLog } from '../store/subscriber-action-log.js';
import type { SubscribersRepository } from '../store/subscribers-repository.js';
import type { ResubscribeClaim } from './signed-links.js';

export type ResubscribeState = 'eligible' | 'subscribed' | 'refused' | 'unknown';

/** Pure: what a membership's standing allows on the resubscribe page. */
export function resubscribeStateOf(standing: MemberStanding | undefined): ResubscribeState {
  if (!standing) return 'unknown';
  if (standing.suppressed || (standing.status !== 'active' && standing.status !== 'sunset' && standing.status !== 'unsubscribed')) return 'refused';
  return standing.membership === 'subscribed' && standing.status === 'active' ? 'subscribed' : 'eligible';
}

export async function resubscribeState(listMembers: Pick<ListMembersRepository, 'standing'>, claim: ResubscribeClaim): Promise<ResubscribeState> {
  return resubscribeStateOf(await listMembers.standing(claim.subscriberId, claim.listId));
}

export type ResubscribeResult = 'resubscribed' | 'already' | 'refused' | 'unknown';

/** What a resubscribe reads and writes, all in one transaction. */
export interface ResubscribeRepositories {
  listMembers: Pick<ListMembersRepository, 'standing' | 'setSubscribed'>;
  subscribers: Pick<SubscribersRepository, 'reactivate'>;
  actionLog: Pick<SubscriberActionLog, 'record'>;
}

export async function resubscribe(store: Transactional<ResubscribeRepositories>, claim: ResubscribeClaim, now: number): Promise<ResubscribeResult> {
  return store.transaction(async (repos) => {
    const standing = await repos.listMembers.standing(claim.subscriberId, claim.listId);
    const state = resubscribeStateOf(standing);
    if (state === 'unknown' || state === 'refused') return state;
    if (state === 'subscribed') return 'already';
    await repos.listMembers.setSubscribed(claim.subscriberId, claim.listId, now);
    // Conditional: a bounce or complaint that landed meanwhile is never overwritten.
    await repos.subscribers.reactivate(claim.subscriberId, 'resubscribed from the unsubscribe page', now);
    await repos.actionLog.record({ type: 'resubscribe', subtype: 'unsubscribe-page', subscriberId: claim.subscriberId, listId: claim.listId, email: standing?.email ?? null }, now);
    return 'resubscribed';
  });
}
