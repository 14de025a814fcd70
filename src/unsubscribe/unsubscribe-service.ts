/**
 * Applying an unsubscribe for a verified token claim (subscriber + list). The token
 * itself proves who asked (src/unsubscribe/token.ts); this only touches the store.
 * Idempotent: a second unsubscribe changes nothing and reports 'already'.
 */
import type { ListMembersRepository } from '../store/list-members-repository.js';
import type { Transactional } from '../store/repositories.js';
import type { SubscriberActionLog } from '../store/subscriber-action-log.js';
import type { SubscribersRepository } from '../store/subscribers-repository.js';
import type { UnsubscribeClaim } from './token.js';

export type UnsubscribeResult = 'unsubscribed' | 'already' | 'unknown';

export interface UnsubscribeTarget {
  email: string;
  listName: string;
  membership: 'subscribed' | 'unsubscribed';
}

/** The subscriber and list a claim names, or null if either (or the membership) is gone. */
export async function findUnsubscribeTarget(listMembers: Pick<ListMembersRepository, 'standing'>, claim: UnsubscribeClaim): Promise<UnsubscribeTarget | null> {
  const standing = await listMembers.standing(claim.subscriberId, claim.listId);
  return standing ? { email: standing.email, listName: standing.listName, membership: standing.membership } : null;
}

/** What an unsubscribe reads and writes: the membership flip and its event in one transaction. */
export interface UnsubscribeRepositories {
  listMembers: Pick<ListMembersRepository, 'markUnsubscribed' | 'find'>;
  subscribers: Pick<SubscribersRepository, 'findById'>;
  actionLog: Pick<SubscriberActionLog, 'record' | 'latestCampaignOnList'>;
}

/**
 * Unsubscribe the subscriber from the list at once. The membership flip is a conditional
 * update, so of two concurrent clicks exactly one logs an `unsubscribe` event (attributed
 * to the subscriber's latest campaign on that list). The subscriber's status then follows
 * the store's rule (SubscribersRepository.unsubscribe: 'unsubscribed' unless bounced or
 * complained), which is idempotent.
 */
export async function unsubscribeMember(
  store: Transactional<UnsubscribeRepositories> & { subscribers: Pick<SubscribersRepository, 'unsubscribe'> },
  claim: UnsubscribeClaim,
  now: number = Date.now(),
): Promise<UnsubscribeResult> {
  const result = await store.transaction(async (repos): Promise<UnsubscribeResult> => {
    if (!(await repos.listMembers.markUnsubscribed(claim.subscriberId, claim.listId, now))) {
      return (await repos.listMembers.find(claim.subscriberId, claim.listId)) ? 'already' : 'unknown';
    }
    const subscriber = await repos.subscribers.findById(claim.subscriberId);
    const campaignId = await repos.actionLog.latestCampaignOnList(claim.subscriberId, claim.listId);
    await repos.actionLog.record(
      { type: 'unsubscribe', subtype: 'one-click', subscriberId: claim.subscriberId, listId: claim.listId, email: subscriber?.email ?? null, campaignId },
      now,
    );
    return 'unsubscribed';
  });
  if (result !== 'unknown') await store.subscribers.unsubscribe(claim.subscriberId, claim.listId, 'one-click unsubscribe');
  return result;
}
