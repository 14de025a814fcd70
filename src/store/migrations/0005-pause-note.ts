import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../db.js';

/**
 * `paused_reason` becomes a closed set of codes (src/campaigns/pause-reason.ts) and the
 * detail people read moves to `paused_note`. Rows written before held free text: map the
 * two free-text forms that existed ('paused by editor', 'reputation breaker: …').
 */
export function pauseNote(_dialect: DialectName): Migration {
  return {
    /* eslint-disable @typescript-eslint/no-explicit-any */
    async up(db: Kysely<any>) {
      await db.schema.alterTable('campaigns').addColumn('paused_note', 'text').execute();
      await db.updateTable('campaigns').set({ paused_reason: 'editor' }).where('paused_reason', '=', 'paused by editor').execute();
      await db
        .updateTable('campaigns')
        .set({ paused_note: sql`substr(paused_reason, 21)`, paused_reason: 'breaker' })
        .where('paused_reason', 'like', 'reputation breaker: %')
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('campaigns').dropColumn('paused_note').execute();
    },
  };
}
