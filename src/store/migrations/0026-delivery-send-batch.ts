import type { Kysely, Migration } from 'kysely';
import type { DialectName } from '../db.js';

/**
 * Issue 15 (the send path's cost): one send job carries up to SEND_BATCH recipients
 * (src/queue/send-queues.ts), so BullMQ's per-job round trips are paid once per batch.
 * `deliveries.send_batch` records which batch the fan-out put the row in (the batch's first
 * subscriber id; null: a row written one by one, e.g. the canary wave's). It lets every path
 * that re-adds jobs for queued rows (resume, the reconciler) rebuild the same job, with the same
 * job id, so re-adding a batch whose job is still waiting is a no-op, as it was per recipient.
 */
export function deliverySendBatch(_dialect: DialectName): Migration {
  return {
    /* eslint-disable @typescript-eslint/no-explicit-any */
    async up(db: Kysely<any>) {
      await db.schema.alterTable('deliveries').addColumn('send_batch', 'integer').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('deliveries').dropColumn('send_batch').execute();
    },
  };
}
