/**
 * Issue #15: a send job carries a batch of recipients (src/queue/send-queues.ts, SEND_BATCH).
 * What a batch must not change: each recipient is sent once, and a recipient that must be tried
 * again does not drag the rest of its batch along — the retried job carries only the recipients
 * that failed (workers/send-processor.ts narrows the job's data before BullMQ retries it).
 * Counted at the simulator.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { QueueEvents, Queue } from 'bullmq';
import { createHarness, type Harness } from '../support/send-harness.js';
import { recipientsOf, SEND_BATCH, SEND_QUEUE, type SendJobData } from '../../src/queue/send-queues.js';
import { createRedisConnection } from '../../src/queue/connection.js';

let h: Harness | undefined;
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c().catch(() => undefined);
  await h?.close();
  h = undefined;
});

describe('send jobs of several recipients', () => {
  it('a transient SES error retries only the recipient it hit, in a job narrowed to the failed ones; everyone is sent once', async () => {
    h = await createHarness({ subscribers: 3 * SEND_BATCH, sendRate: 500 });
    const connection = { url: h.config.REDIS_URL };
    const queue = new Queue<SendJobData>(SEND_QUEUE, { connection: createRedisConnection(h.config.REDIS_URL), prefix: h.prefix });
    const events = new QueueEvents(SEND_QUEUE, { connection, prefix: h.prefix });
    closers.push(() => queue.close(), () => events.close());
    await events.waitUntilReady();
    // The data each failed job is retried with, read while it waits out its backoff (500 ms, delayed).
    const retried: Promise<number[] | undefined>[] = [];
    events.on('delayed', ({ jobId }) => retried.push(queue.getJob(jobId).then((j) => (j ? recipientsOf(j.data) : undefined))));

    h.sim.failNext(2);
    const id = await h.startCampaign();
    await h.startWorker();
    await h.waitForStatus(id, 'sent', 60_000);

    const counts = h.counts();
    expect(h.expectedEmails().filter((e) => counts.get(e) !== 1)).toEqual([]);
    expect(h.sim.stats().errors).toMatchObject({ InternalFailure: 2 });
    // The failed jobs were batches (the fan-out's), and their retries carried the 2 failures only.
    const carried = await Promise.all(retried);
    expect(carried.every((ids) => ids !== undefined)).toBe(true);
    expect(carried.flatMap((ids) => ids!)).toHaveLength(2);
  });
});
