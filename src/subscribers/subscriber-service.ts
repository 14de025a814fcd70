/**
 * Subscriber operations by address and list name, as the CLI (and the HTTP API) need
 * them. Holds the rules that span tables; all IO goes through the repositories.
 */
import { NotFoundError, StateError } from '../errors.js';
import type { SubscriberRepositories } from '../store/repositories.js';
import type { MembershipStatus, SubscriberStatus } from '../store/schema.js';
import { parseAttributes } from '../store/subscribers-repository.js';
import { parseEmail } from './subscriber-fields.js';

export interface SubscriberView {
  id: number;
  email: string;
  name: string | null;
  status: SubscriberStatus;
  status_reason: string | null;
  attributes: Record<string, unknown>;
  lists: Array<{ name: string; status: MembershipStatus; joined_at: string }>;
  /** Suppression reason if the address is suppressed (a bounce or complaint also suppresses). */
  suppressed: string | null;
  created_at: string;
  updated_at: string;
}

export interface AddResult {
  view: SubscriberView;
  created: boolean;
  /** False when the subscriber was already a member (possibly unsubscribed) of the list. */
  addedToList: boolean;
}

export async function addSubscriber(
  repos: SubscriberRepositories,
  input: { email: string; name?: string | null; listName: string },
): Promise<AddResult> {
  const email = parseEmail(input.email);
  const suppression = await repos.suppressions.find(email);
  if (suppression) throw new StateError(`${email} is suppressed (${suppression.reason}) and will not be added`);
  const list = await repos.lists.ensureList(input.listName);
  const { subscriber, created } = await repos.subscribers.upsert({ email, name: input.name });
  const addedToList = await repos.listMembers.addToList(subscriber.id, list.id);
  return { view: await showSubscriber(repos, email), created, addedToList };
}

export async function showSubscriber(repos: SubscriberRepositories, rawEmail: string): Promise<SubscriberView> {
  const email = parseEmail(rawEmail);
  const subscriber = await repos.subscribers.findByEmail(email);
  const suppression = await repos.suppressions.find(email);
  if (!subscriber) {
    throw new NotFoundError(suppression ? `subscriber ${email} (address suppressed: ${suppression.reason})` : `subscriber ${email}`);
  }
  return viewOf(subscriber, await repos.listMembers.membershipsOf(subscriber.id), suppression);
}

/**
 * `showSubscriber` for a page of (stored, normalised) addresses in three queries, not three
 * per address (a search page of 50 would otherwise be 150 round trips). Addresses no longer
 * stored (removed meanwhile) are left out; the order is the order given.
 */
export async function showSubscribers(repos: SubscriberRepositories, emails: readonly string[]): Promise<SubscriberView[]> {
  const subscribers = new Map((await repos.subscribers.findManyByEmail(emails)).map((s) => [s.email, s]));
  const [suppressions, memberships] = await Promise.all([
    repos.suppressions.findMany(emails),
    repos.listMembers.membershipsOfMany([...subscribers.values()].map((s) => s.id)),
  ]);
  const views: SubscriberView[] = [];
  for (const email of emails) {
    const s = subscribers.get(email);
    if (s) views.push(viewOf(s, memberships.get(Number(s.id)) ?? [], suppressions.get(email)));
  }
  return views;
}

function viewOf(
  subscriber: Awaited<ReturnType<SubscriberRepositories['subscribers']['findByEmail']>> & object,
  memberships: Awaited<ReturnType<SubscriberRepositories['listMembers']['membershipsOf']>>,
  suppression: { reason: string } | undefined,
): SubscriberView {
  return {
    id: subscriber.id,
    email: subscriber.email,
    name: subscriber.name,
    status: subscriber.status,
    status_reason: subscriber.status_reason,
    attributes: parseAttributes(subscriber.attributes),
    lists: memberships.map((m) => ({ name: m.listName, status: m.status, joined_at: new Date(m.joinedAt).toISOString() })),
    suppressed: suppression?.reason ?? null,
    created_at: new Date(subscriber.created_at).toISOString(),
    updated_at: new Date(subscriber.updated_at).toISOString(),
  };
}

/** Unsubscribe by address from a list (and, as everywhere, set the subscriber's status). */
export async function unsubscribeByEmail(repos: SubscriberRepositories, rawEmail: string, listName: string, reason = 'cli'): Promise<SubscriberView> {
  const email = parseEmail(rawEmail);
  const subscriber = await repos.subscribers.findByEmail(email);
  if (!subscriber) throw new NotFoundError(`subscriber ${email}`);
  const list = await repos.lists.findByName(listName);
  if (!list) throw new NotFoundError(`list "${listName}"`);
  await repos.subscribers.unsubscribe(subscriber.id, list.id, reason);
  return showSubscriber(repos, email);
}

/** Erase personal data, keep the suppression. Returns whether a subscriber row existed. */
export async function removeSubscriber(repos: SubscriberRepositories, rawEmail: string): Promise<boolean> {
  return repos.subscribers.remove(parseEmail(rawEmail));
}
