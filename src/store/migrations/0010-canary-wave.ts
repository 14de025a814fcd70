import type { Kysely, Migration } from 'kysely';
import type { DialectName } from '../db.js';

/**
 * Canary waves (src/campaigns/canary-wave.ts): per campaign the wave's share of the audience,
 * the wait after it, its size, its phase and the persisted end of the wait (the worker's sweep
 * releases the rest when it passes: no in-memory timer); per ledger row whether it belongs to
 * the wave (`deliveries.wave`), so the rest of the fan-out skips wave members and the wave's
 * own bounce/complaint/failure rates can be counted.
 */
export function canaryWave(_dialect: DialectName): Migration {
  return {
    /* eslint-disable @typescript-eslint/no-explicit-any */
    async up(db: Kysely<any>) {
      await db.schema.alterTable('campaigns').addColumn('canary_percent', 'double precision').execute();
      await db.schema.alterTable('campaigns').addColumn('canary_wait_ms', 'bigint').execute();
      await db.schema.alterTable('campaigns').addColumn('canary_size', 'integer').execute();
      await db.schema.alterTable('campaigns').addColumn('canary_phase', 'text').execute();
      await db.schema.alterTable('campaigns').addColumn('canary_until', 'bigint').execute();
      await db.schema.alterTable('deliveries').addColumn('wave', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('deliveries').dropColumn('wave').execute();
      for (const col of ['canary_until', 'canary_phase', 'canary_size', 'canary_wait_ms', 'canary_percent']) {
        await db.schema.alterTable('campaigns').dropColumn(col).execute();
      }
    },
  };
}
