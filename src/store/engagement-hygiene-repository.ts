import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface SentIssue {
  id: number;
  subject: string;
  startedAt: number | null;
}

export interface InactiveSubscriber {
  id: number;
  email: string;
  name: string | null;
}

/**
 * List hygiene by engagement (`subscribers inactive`): the last sent issues of a list, the
 * active members who received every one of them and engaged as a person with none (an
 * open or click whose events.engagement is `human`; Apple MPP fetches and scanner clicks
 * are `machine` and do not count), and the move to `sunset`.
 */
export class EngagementHygieneRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The list's last `n` campaigns that finished sending, newest first. */
  async lastSentIssues(listId: number, n: number): Promise<SentIssue[]> {
    const rows = await this.db
      .selectFrom('campaigns')
      .select(['id', 'subject', 'started_at'])
      .where('list_id', '=', listId)
      .where('status', '=', 'sent')
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(n)
      .execute();
    return rows.map((r) => ({ id: Number(r.id), subject: r.subject, startedAt: r.started_at === null ? null : Number(r.started_at) }));
  }

  /**
   * Active, subscribed members of the list who were sent every one of `campaignIds` and
   * engaged as a person with none. Whoever (re)subscribed or undid a sunset at or after
   * `since` (the oldest issue's start) is left out: they told us themselves.
   */
  async inactiveAmong(listId: number, campaignIds: number[], since: number): Promise<InactiveSubscriber[]> {
    if (campaignIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('subscribers as s')
      .innerJoin('list_members as m', 'm.subscriber_id', 's.id')
      .select(['s.id', 's.email', 's.name'])
      .where('m.list_id', '=', listId)
      .where('m.status', '=', 'subscribed')
      .where('s.status', '=', 'active')
      .where(
        (eb) =>
          eb
            .selectFrom('deliveries as d')
            .select(sql<number>`count(*)`.as('n'))
            .whereRef('d.subscriber_id', '=', 's.id')
            .where('d.campaign_id', 'in', campaignIds)
            .where('d.status', 'in', ['sent', 'delivered']),
        '=',
        campaignIds.length,
      )
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('events as e')
              .select(sql`1`.as('one'))
              .whereRef('e.subscriber_id', '=', 's.id')
              .where('e.campaign_id', 'in', campaignIds)
              .where('e.type', 'in', ['open', 'click'])
              .where('e.engagement', '=', 'human'),
          ),
        ),
      )
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('events as a')
              .select(sql`1`.as('one'))
              .whereRef('a.subscriber_id', '=', 's.id')
              .where('a.type', 'in', ['subscribe', 'resubscribe'])
              .where('a.occurred_at', '>=', since),
          ),
        ),
      )
      .orderBy('s.id')
      .execute();
    return rows.map((r) => ({ id: Number(r.id), email: r.email, name: r.name }));
  }

  /** Move these subscribers from `active` to `sunset` (conditional: anyone who changed meanwhile is left alone); returns those moved. */
  async sunset(ids: number[], reason: string, at: number): Promise<number[]> {
    const moved: number[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.db
        .updateTable('subscribers')
        .set({ status: 'sunset', status_reason: reason.slice(0, 500), updated_at: at })
        .where('id', 'in', ids.slice(i, i + 500))
        .where('status', '=', 'active')
        .returning('id')
        .execute();
      moved.push(...rows.map((r) => Number(r.id)));
    }
    return moved;
  }
}
