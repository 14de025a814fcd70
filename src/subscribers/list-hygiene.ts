/**
 * Engagement-based list hygiene: who has not engaged as a person with the last N issues
 * (`subscribers inactive --issues N`), setting them aside as `sunset` (`--suppress`), and
 * the reader's own undo (the unsubscribe page of any past email, or the sign-up form).
 *
 * "Engaged as a person" is an open or click classified `human` (src/events/engagement-class.ts):
 * Apple Mail Privacy Protection fetches every message's pixel and link scanners click every
 * link, so those (`machine`) and unclassifiable ones (`unknown`) do not keep anyone active.
 * Only readers who were sent every one of the N issues are judged, so newcomers are not, and
 * nobody who subscribed again or pressed "keep sending" since the oldest of them.
 */
import { InputError, NotFoundError } from '../errors.js';
import type { EngagementHygieneRepository, InactiveSubscriber, SentIssue } from '../store/engagement-hygiene-repository.js';
import type { ListMembersRepository } from '../store/list-members-repository.js';
import type { ListsRepository } from '../store/lists-repository.js';
import type { Transactional } from '../store/repositories.js';
import type { SubscriberActionLog } from '../store/subscriber-action-log.js';
import type { SubscribersRepository } from '../store/subscribers-repository.js';

export interface InactiveReport {
  list: string;
  /** The issues looked at, newest first (fewer than asked when the list has sent fewer: then nobody is judged). */
  issues: SentIssue[];
  inactive: InactiveSubscriber[];
  /** With `suppress`: how many moved to `sunset`. */
  sunset: number;
}

export interface HygieneRepositories {
  lists: Pick<ListsRepository, 'findByName'>;
  engagementHygiene: EngagementHygieneRepository;
  actionLog: Pick<SubscriberActionLog, 'record'>;
}

export async function inactiveSubscribers(
  store: HygieneRepositories & Transactional<HygieneRepositories>,
  options: { list: string; issues: number; suppress?: boolean; now?: number },
): Promise<InactiveReport> {
  if (!Number.isInteger(options.issues) || options.issues < 1 || options.issues > 1000) throw new InputError(`--issues must be a whole number from 1 to 1000, not "${options.issues}"`);
  const list = await store.lists.findByName(options.list);
  if (!list) throw new NotFoundError(`list "${options.list}"`);
  const issues = await store.engagementHygiene.lastSentIssues(list.id, options.issues);
  // Fewer issues sent than asked: nobody has had N chances yet.
  const since = Math.min(...issues.map((i) => i.startedAt ?? 0));
  const inactive = issues.length < options.issues ? [] : await store.engagementHygiene.inactiveAmong(list.id, issues.map((i) => i.id), since);
  let sunset = 0;
  if (options.suppress && inactive.length > 0) {
    const now = options.now ?? Date.now();
    const reason = `no human open or click in the last ${options.issues} issues`;
    sunset = await store.transaction(async (repos) => {
      const moved = await repos.engagementHygiene.sunset(inactive.map((s) => s.id), reason, now);
      const byId = new Map(inactive.map((s) => [s.id, s]));
      for (const id of moved) {
        await repos.actionLog.record({ type: 'sunset', subtype: 'inactive', subscriberId: id, listId: list.id, email: byId.get(id)?.email ?? null, key: `sunset:${id}:${now}` }, now);
      }
      return moved.length;
    });
  }
  return { list: list.name, issues, inactive, sunset };
}

export type EndSunsetResult = 'reactivated' | 'not-sunset' | 'unknown';

export interface EndSunsetRepositories {
  listMembers: Pick<ListMembersRepository, 'standing'>;
  subscribers: Pick<SubscribersRepository, 'endSunset'>;
  actionLog: Pick<SubscriberActionLog, 'record'>;
}

/**
 * The reader undoes `sunset` (the "keep sending" button on the unsubscribe page of any past
 * email): back to active, on the same list. Only from sunset, and never for a suppressed
 * address: an unsubscribe, bounce or complaint that came meanwhile wins.
 */
export async function endSunset(store: Transactional<EndSunsetRepositories>, claim: { subscriberId: number; listId: number }, now: number): Promise<EndSunsetResult> {
  return store.transaction(async (repos) => {
    const standing = await repos.listMembers.standing(claim.subscriberId, claim.listId);
    if (!standing) return 'unknown';
    if (standing.status !== 'sunset' || standing.suppressed || standing.membership !== 'subscribed') return 'not-sunset';
    if (!(await repos.subscribers.endSunset(claim.subscriberId, 'kept from the unsubscribe page', now))) return 'not-sunset';
    await repos.actionLog.record({ type: 'resubscribe', subtype: 'sunset-undo', subscriberId: claim.subscriberId, listId: claim.listId, email: standing.email }, now);
    return 'reactivated';
  });
}
