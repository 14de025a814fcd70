import type { Kysely } from 'kysely';
import type { Database, MembershipStatus, SubscriberStatus } from './schema.js';

export interface Membership {
  listId: number;
  listName: string;
  status: MembershipStatus;
  joinedAt: number;
}

/** A membership with what decides whether its subscriber may be mailed or may resubscribe. */
export interface MemberStanding {
  email: string;
  listName: string;
  membership: MembershipStatus;
  status: SubscriberStatus;
  /** The address is on the suppression list. */
  suppressed: boolean;
  /** When the membership last changed (for an unsubscribed one: when it was unsubscribed), epoch ms. */
  updatedAt: number;
}

/** Which subscriber is on which list. The audience query lives in AudienceRepository. */
export class ListMembersRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Put a subscriber on a list as `subscribed`. An existing membership is left as it is:
   * someone who unsubscribed from this list is never silently resubscribed.
   * Returns true when a new membership was created.
   */
  async addToList(subscriberId: number, listId: number): Promise<boolean> {
    const now = this.now();
    const rows = await this.db
      .insertInto('list_members')
      .values({ list_id: listId, subscriber_id: subscriberId, status: 'subscribed', created_at: now, updated_at: now })
      .onConflict((oc) => oc.columns(['list_id', 'subscriber_id']).doNothing())
      .returning('subscriber_id')
      .execute();
    return rows.length > 0;
  }

  async membershipsOf(subscriberId: number): Promise<Membership[]> {
    const rows = await this.db
      .selectFrom('list_members as m')
      .innerJoin('lists as l', 'l.id', 'm.list_id')
      .select(['l.id', 'l.name', 'm.status', 'm.created_at'])
      .where('m.subscriber_id', '=', subscriberId)
      .orderBy('l.name')
      .execute();
    return rows.map((r) => ({ listId: r.id, listName: r.name, status: r.status, joinedAt: r.created_at }));
  }

  /** `membershipsOf` for many subscribers in one query (a search page), by subscriber id. */
  async membershipsOfMany(subscriberIds: readonly number[]): Promise<Map<number, Membership[]>> {
    const out = new Map<number, Membership[]>();
    if (subscriberIds.length === 0) return out;
    const rows = await this.db
      .selectFrom('list_members as m')
      .innerJoin('lists as l', 'l.id', 'm.list_id')
      .select(['m.subscriber_id', 'l.id', 'l.name', 'm.status', 'm.created_at'])
      .where('m.subscriber_id', 'in', subscriberIds)
      .orderBy('l.name')
      .execute();
    for (const r of rows) {
      const id = Number(r.subscriber_id);
      out.set(id, [...(out.get(id) ?? []), { listId: r.id, listName: r.name, status: r.status, joinedAt: r.created_at }]);
    }
    return out;
  }

  async find(subscriberId: number, listId: number): Promise<{ status: MembershipStatus; created_at: number } | undefined> {
    return this.db
      .selectFrom('list_members')
      .select(['status', 'created_at'])
      .where('list_id', '=', listId)
      .where('subscriber_id', '=', subscriberId)
      .executeTakeFirst();
  }

  /**
   * Subscribed on this list: a new membership, or an existing one (possibly unsubscribed)
   * flipped back. Only for a reader who asked (confirmed sign-up, resubscribe); imports
   * and adds use addToList, which never resubscribes.
   */
  async setSubscribed(subscriberId: number, listId: number, at: number): Promise<void> {
    await this.db
      .insertInto('list_members')
      .values({ list_id: listId, subscriber_id: subscriberId, status: 'subscribed', created_at: at, updated_at: at })
      .onConflict((oc) => oc.columns(['list_id', 'subscriber_id']).doUpdateSet({ status: 'subscribed', updated_at: at }))
      .execute();
  }

  /**
   * Flip a `subscribed` membership to `unsubscribed`. Conditional, so of two concurrent
   * unsubscribes exactly one gets true (and logs the event).
   */
  async markUnsubscribed(subscriberId: number, listId: number, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('list_members')
      .set({ status: 'unsubscribed', updated_at: at })
      .where('list_id', '=', listId)
      .where('subscriber_id', '=', subscriberId)
      .where('status', '=', 'subscribed')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** The membership, its subscriber's address and status, and whether the address is suppressed; one query. */
  async standing(subscriberId: number, listId: number): Promise<MemberStanding | undefined> {
    const row = await this.db
      .selectFrom('list_members as m')
      .innerJoin('subscribers as s', 's.id', 'm.subscriber_id')
      .innerJoin('lists as l', 'l.id', 'm.list_id')
      .leftJoin('suppressions as x', 'x.email', 's.email')
      .select(['s.email as email', 'l.name as listName', 'm.status as membership', 's.status as status', 'x.email as suppressedEmail', 'm.updated_at as updatedAt'])
      .where('m.list_id', '=', listId)
      .where('m.subscriber_id', '=', subscriberId)
      .executeTakeFirst();
    if (!row) return undefined;
    return { email: row.email, listName: row.listName, membership: row.membership, status: row.status, suppressed: row.suppressedEmail !== null, updatedAt: Number(row.updatedAt) };
  }
}
