import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { Database } from './schema.js';
import type { AudienceSource } from '../campaigns/ports.js';

export interface AudienceFilter {
  listId: number;
  /** Audience freeze: only subscribers with id ≤ this (the campaign's snapshot). */
  maxSubscriberId?: number;
  /** Audience freeze: only memberships created strictly before this epoch-ms instant. */
  joinedBefore?: number;
}

export interface AudiencePageQuery extends AudienceFilter {
  /** Keyset cursor: return subscribers with id > afterId (0 for the first page). */
  afterId: number;
  limit: number;
  /** Leave out the canary wave of this campaign (its rows are written first; the rest skips them). */
  excludeWaveOf?: number;
}

/** A count of a list's audience and the instant (epoch ms) it was taken. */
export interface StoredAudienceSize {
  n: number;
  countedAt: number;
}

export interface AudienceMember {
  id: number;
  email: string;
  name: string | null;
}

/**
 * Who a campaign may mail: members of the list whose membership is `subscribed`, whose
 * subscriber status is `active`, and whose address is not suppressed. Paged by keyset on
 * subscriber id (the list_members primary key is (list_id, subscriber_id), so each page
 * is an index range scan): never OFFSET, never the whole list in memory.
 */
export class AudienceRepository implements AudienceSource {
  constructor(private readonly db: Kysely<Database>) {}

  async audiencePage(query: AudiencePageQuery): Promise<AudienceMember[]> {
    if (!Number.isInteger(query.limit) || query.limit <= 0) throw new RangeError(`limit must be a positive integer, got ${query.limit}`);
    return this.filtered(query)
      .select(['s.id', 's.email', 's.name'])
      // The keyset bound on both sides of the join (see `filtered`).
      .where('m.subscriber_id', '>', query.afterId)
      .where('s.id', '>', query.afterId)
      .$if(query.excludeWaveOf !== undefined, (q) =>
        q.where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('deliveries as w')
                .select('w.subscriber_id')
                .where('w.campaign_id', '=', query.excludeWaveOf!)
                .whereRef('w.subscriber_id', '=', 'm.subscriber_id')
                .where('w.wave', '=', 1),
            ),
          ),
        ),
      )
      // Ordered by s.id (equal to m.subscriber_id through the join): SQLite's planner walks
      // subscribers by rowid over the keyset range, and ordering by the other table's column
      // made it read the whole range and sort it (a page of 50 cost as much as the count).
      .orderBy('s.id')
      .limit(query.limit)
      .execute();
  }

  async audienceCount(filter: AudienceFilter): Promise<number> {
    const row = await this.filtered(filter)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The list's last stored audience count and the instant it describes (migration 0021), if any. */
  async storedSize(listId: number): Promise<StoredAudienceSize | undefined> {
    const row = await this.db.selectFrom('list_audience_sizes').select(['n', 'counted_at']).where('list_id', '=', listId).executeTakeFirst();
    return row ? { n: Number(row.n), countedAt: Number(row.counted_at) } : undefined;
  }

  /**
   * Store a count of the list's audience taken at `countedAt`; an older count than the one
   * stored changes nothing (two servers recounting at once: the later count stays).
   */
  async storeSize(listId: number, size: StoredAudienceSize): Promise<void> {
    await this.db
      .insertInto('list_audience_sizes')
      .values({ list_id: listId, n: size.n, counted_at: size.countedAt })
      .onConflict((oc) =>
        oc.column('list_id').doUpdateSet({ n: (eb) => eb.ref('excluded.n'), counted_at: (eb) => eb.ref('excluded.counted_at') })
          .where('list_audience_sizes.counted_at', '<', (eb) => eb.ref('excluded.counted_at')),
      )
      .execute();
  }

  /** Re-check just before a send: is this subscriber still in the list's audience? */
  async isMailable(subscriberId: number, listId: number): Promise<boolean> {
    return (await this.mailableAmong([subscriberId], listId)).has(subscriberId);
  }

  /** `isMailable` for several subscribers in one statement: the ones still in the list's audience. */
  async mailableAmong(subscriberIds: readonly number[], listId: number): Promise<Set<number>> {
    if (subscriberIds.length === 0) return new Set();
    const rows = await this.filtered({ listId }).select('s.id').where('m.subscriber_id', 'in', subscriberIds).execute();
    return new Set(rows.map((r) => Number(r.id)));
  }

  /** Name and address for personalization, or undefined if the subscriber was removed. */
  recipient(subscriberId: number): Promise<{ email: string; name: string | null } | undefined> {
    return this.db.selectFrom('subscribers').select(['email', 'name']).where('id', '=', subscriberId).executeTakeFirst();
  }

  async listIdByName(name: string): Promise<number | undefined> {
    return (await this.db.selectFrom('lists').select('id').where('name', '=', name).executeTakeFirst())?.id;
  }

  /**
   * The canary wave's members, in wave order, as a query for DeliveryLedger.insertCanaryWave
   * (one INSERT … SELECT): the audience (same freeze and filter as the fan-out) ordered by
   * the most recent engagement first (`lastEngagement`), then by a pseudo-random order seeded
   * per campaign (deterministic, so the same campaign picks the same people), then id.
   */
  waveSelection(filter: AudienceFilter, size: number, seed: number) {
    // Multiplicative hash of (id + seed) modulo a prime below 2^32: a stable shuffle in plain SQL
    // (SQLite has no hash or seeded random). Products stay within 64 bits for ids below 2^31.
    const shuffle = sql<number>`((s.id + ${seed}) * 2654435761) % 4294967291`;
    return this.filtered(filter)
      .leftJoin(lastEngagement(this.db).as('e'), 'e.subscriber_id', 's.id')
      .select(['s.id as subscriber_id', 's.email as email'])
      .orderBy(sql`case when e.last_at is null then 1 else 0 end`)
      .orderBy('e.last_at', 'desc')
      .orderBy(shuffle)
      .orderBy('s.id')
      .limit(size);
  }

  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  private filtered(filter: AudienceFilter): SelectQueryBuilder<Database & { m: Database['list_members']; s: Database['subscribers'] }, 'm' | 's', {}> {
    let q = this.db
      .selectFrom('list_members as m')
      .innerJoin('subscribers as s', 's.id', 'm.subscriber_id')
      .where('m.list_id', '=', filter.listId)
      .where('m.status', '=', 'subscribed')
      .where('s.status', '=', 'active')
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('suppressions as x').select('x.email').whereRef('x.email', '=', 's.email'))),
      );
    // Every id bound is put on both sides of the join (s.id = m.subscriber_id): PostgreSQL may
    // merge-join the membership range with the subscribers' primary key, and a bound on one side
    // only lets it walk subscribers from id 1 up to the range (a page at id 900,000 of a million
    // read 883,000 index entries: 128 ms instead of 4).
    if (filter.maxSubscriberId !== undefined) q = q.where('m.subscriber_id', '<=', filter.maxSubscriberId).where('s.id', '<=', filter.maxSubscriberId);
    if (filter.joinedBefore !== undefined) q = q.where('m.created_at', '<', filter.joinedBefore);
    return q;
  }
}

/**
 * Each subscriber's most recent human engagement: the time of their latest open or click
 * classified `human` (src/events/engagement-class.ts) in the events table. THE one place that
 * says which engagement counts for the canary's "most recently engaged first": Apple MPP
 * prefetches and link scanners reach every subscriber, so counting them would rank nobody.
 */
function lastEngagement(db: Kysely<Database>) {
  return db
    .selectFrom('events')
    .select(['subscriber_id', (eb) => eb.fn.max('occurred_at').as('last_at')])
    .where('type', 'in', ['open', 'click'])
    .where('engagement', '=', 'human')
    .where('subscriber_id', 'is not', null)
    .groupBy('subscriber_id');
}
