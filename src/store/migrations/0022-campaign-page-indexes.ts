import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../db.js';

/** The event types the campaign page's "recent problems" lists, as its query and this index spell them. */
export const PROBLEM_TYPES_SQL = `('bounce', 'complaint')`;

/**
 * Issue 16 (the campaign page of a finished campaign at a million recipients): the page's two
 * reads of `events` that grew with the campaign, each given a partial index it reads in order
 * (plans in test/store/hot-query-plans.test.ts).
 *  - events_link_clicks (campaign_id, detail, engagement, subscriber_id) WHERE click with a link:
 *    the link table (clicks per link by class, unique human clickers) and the top links group a
 *    campaign's clicks by link from the index alone, in link order (no sort, no table read).
 *    Its cost is the campaign's clicks (~49,000 of 1.3M events in bench/scale.ts), not its events.
 *  - events_recent_problems (campaign_id, occurred_at, id) WHERE bounce or complaint: the latest
 *    20 are read backwards from the end of the campaign's range instead of sorting all of them.
 * The queries spell the predicates with the same literals (CampaignHealthRepository,
 * CampaignReportsRepository): SQLite uses a partial index only when the query's WHERE has its terms.
 * Building them reads `events` once inside the migration's transaction (seconds per ten million rows).
 */
export function campaignPageIndexes(_dialect: DialectName): Migration {
  return {
    /* eslint-disable @typescript-eslint/no-explicit-any */
    async up(db: Kysely<any>) {
      await sql`create index events_link_clicks on events (campaign_id, detail, engagement, subscriber_id) where type = 'click' and detail is not null`.execute(db);
      await sql`create index events_recent_problems on events (campaign_id, occurred_at, id) where type in ${sql.raw(PROBLEM_TYPES_SQL)}`.execute(db);
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('events_recent_problems').ifExists().execute();
      await db.schema.dropIndex('events_link_clicks').ifExists().execute();
    },
  };
}
