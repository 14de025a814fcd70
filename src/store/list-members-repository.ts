import type { Kysely } from 'kysely';
import type { Database, MembershipStatus } from './schema.js';

export interface Membership {
  listId: number;
  listName: string;
  status: MembershipStatus;
  joinedAt: number;
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

  async find(subscriberId: number, listId: number): Promise<{ status: MembershipStatus; created_at: number } | undefined> {
    return this.db
      .selectFrom('list_members')
      .select(['status', 'created_at'])
      .where('list_id', '=', listId)
      .where('subscriber_id', '=', subscriberId)
      .executeTakeFirst();
  }
}
