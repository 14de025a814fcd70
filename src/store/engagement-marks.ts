/**
 * The engagement marks and counters of migration 0020 rebuilt from a campaign's events,
 * set-based: the migration's backfill for one campaign. The event writer keeps them as events
 * arrive; this is for data that reached the events table without it (the benches' and test
 * fixtures' bulk seeds), and states in one place what the counters must equal.
 */
import { sql, type Kysely } from 'kysely';
import { MARK } from '../events/engagement-marks.js';
import type { Database } from './schema.js';

/** A recipient's mark from its open and click events (to group by campaign_id, subscriber_id). */
export function markOfEventsSql(): string {
  const flag = (bit: number, type: string, engagement?: string) =>
    `${bit} * max(case when type = '${type}'${engagement ? ` and engagement = '${engagement}'` : ''} then 1 else 0 end)`;
  return [
    flag(MARK.humanOpen, 'open', 'human'),
    flag(MARK.machineOpen, 'open', 'machine'),
    flag(MARK.anyOpen, 'open'),
    flag(MARK.humanClick, 'click', 'human'),
    flag(MARK.machineClick, 'click', 'machine'),
    flag(MARK.anyClick, 'click'),
  ].join(' + ');
}

/** Replace the marks and counts of the campaign (every campaign without one) by those of its events, in one transaction. */
export async function rebuildEngagementMarks(db: Kysely<Database>, campaignId?: number): Promise<void> {
  const only = campaignId === undefined ? sql`campaign_id is not null` : sql`campaign_id = ${campaignId}`;
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('campaign_engagement_counts').$if(campaignId !== undefined, (q) => q.where('campaign_id', '=', campaignId!)).execute();
    await trx.deleteFrom('campaign_engagement_marks').$if(campaignId !== undefined, (q) => q.where('campaign_id', '=', campaignId!)).execute();
    await sql`insert into campaign_engagement_marks (campaign_id, subscriber_id, mark)
      select campaign_id, subscriber_id, ${sql.raw(markOfEventsSql())}
      from events
      where ${only} and type in ('open', 'click') and subscriber_id is not null
      group by campaign_id, subscriber_id`.execute(trx);
    await sql`insert into campaign_engagement_counts (campaign_id, mark, n)
      select campaign_id, mark, count(*) from campaign_engagement_marks where ${only} group by campaign_id, mark`.execute(trx);
  });
}
