import type { Kysely, Migration } from 'kysely';
import type { DialectName } from '../db.js';

/**
 * Issue 16 (trigger → first send < 1 s for a million): the audience is no longer counted
 * before the fan-out starts. `campaigns.total_known` says whether `total` holds the counted
 * audience (1) or the count is still pending (0: started without a canary; the fan-out fills
 * `total` in right after its first page is enqueued, CampaignsRepository.fillTotal). Rows
 * written before hold a counted total: default 1.
 */
export function totalKnown(_dialect: DialectName): Migration {
  return {
    /* eslint-disable @typescript-eslint/no-explicit-any */
    async up(db: Kysely<any>) {
      await db.schema.alterTable('campaigns').addColumn('total_known', 'integer', (c) => c.notNull().defaultTo(1)).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('campaigns').dropColumn('total_known').execute();
    },
  };
}
