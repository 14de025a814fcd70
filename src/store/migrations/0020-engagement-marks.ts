import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../db.js';
import { markOfEventsSql } from '../engagement-marks.js';

/**
 * Per-campaign engagement counters (issue #16): a campaign's stats split opens and clicks by
 * class (human / machine / unknown) per recipient, which used to group all the campaign's open
 * and click events. Now:
 *
 *  - campaign_engagement_marks (campaign_id, subscriber_id) → mark: the bits of
 *    src/events/engagement-marks.ts (human / machine / any open, human / machine / any click)
 *    of the recipient's open and click events, i.e. the per-message flags the grouping computed;
 *  - campaign_engagement_counts (campaign_id, mark) → n: recipients per mark (at most 64 rows a
 *    campaign), what the stats read.
 *
 * Both are written by the event writer only, in the transaction of the notification whose open
 * or click changed the mark (after the replay gate, so an SNS redelivery changes nothing), as
 * the rules' `markEngagement` effect decides (src/events/event-effects.ts). The backfill below
 * is the old grouping, set-based, in the migration's transaction.
 */
export function engagementMarks(dialect: DialectName): Migration {
  return {
    /* eslint-disable @typescript-eslint/no-explicit-any */
    async up(db: Kysely<any>) {
      const run = async (trx: Kysely<any>) => {
        const withoutRowid = <T extends { modifyEnd(s: unknown): T }>(t: T): T => (dialect === 'sqlite' ? t.modifyEnd(sql`without rowid`) : t);
        await trx.schema
          .createTable('campaign_engagement_marks')
          .addColumn('campaign_id', 'bigint', (c) => c.notNull())
          .addColumn('subscriber_id', 'bigint', (c) => c.notNull())
          .addColumn('mark', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('campaign_engagement_marks_pk', ['campaign_id', 'subscriber_id'])
          .$call((t) => withoutRowid(t))
          .execute();
        await trx.schema
          .createTable('campaign_engagement_counts')
          .addColumn('campaign_id', 'bigint', (c) => c.notNull())
          .addColumn('mark', 'integer', (c) => c.notNull())
          .addColumn('n', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('campaign_engagement_counts_pk', ['campaign_id', 'mark'])
          .$call((t) => withoutRowid(t))
          .execute();
        // The backfill is rebuildEngagementMarks's grouping (src/store/engagement-marks.ts), for every campaign.
        await sql
          .raw(
            `insert into campaign_engagement_marks (campaign_id, subscriber_id, mark)
              select campaign_id, subscriber_id, ${markOfEventsSql()}
              from events
              where type in ('open', 'click') and campaign_id is not null and subscriber_id is not null
              group by campaign_id, subscriber_id`,
          )
          .execute(trx);
        await sql`insert into campaign_engagement_counts (campaign_id, mark, n)
          select campaign_id, mark, count(*) from campaign_engagement_marks group by campaign_id, mark`.execute(trx);
      };
      if (dialect === 'postgres') await run(db);
      else await db.transaction().execute(run);
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('campaign_engagement_counts').ifExists().execute();
      await db.schema.dropTable('campaign_engagement_marks').ifExists().execute();
    },
  };
}
