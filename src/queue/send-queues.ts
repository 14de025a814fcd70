/**
 * BullMQ queue names, job payloads and job ids for the send pipeline. Job data is ids
 * only; rendered HTML never goes into Redis.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';

export const FANOUT_QUEUE = 'fanout';
export const SEND_QUEUE = 'send';

export interface FanoutJobData {
  campaignId: number;
  /** Re-enqueue a campaign's 'queued' ledger rows (after resume or a lost Redis) before continuing the audience. */
  requeue?: { after: number; updatedBefore?: number };
}

/** Short keys: at 100,000 waiting jobs every byte counts in Redis. */
export interface SendJobData {
  c: number;
  s: number;
}

/** BullMQ 6 job ids may not contain ':'. One id per (campaign, subscriber): adding it twice is a no-op while it exists. */
export const sendJobId = (campaignId: number, subscriberId: number) => `c${campaignId}-s${subscriberId}`;
export const fanoutJobId = (campaignId: number) => `fanout-c${campaignId}`;

export const SEND_JOB_OPTIONS: JobsOptions = {
  // Transient errors (network, 5xx) retry with backoff; throttling uses moveToDelayed and costs no attempt.
  attempts: 8,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: true,
  removeOnFail: true,
};

export const FANOUT_JOB_OPTIONS: JobsOptions = {
  attempts: 1000,
  backoff: { type: 'fixed', delay: 1000 },
  removeOnComplete: true,
  removeOnFail: true,
};

export interface SendQueues {
  fanout: Queue<FanoutJobData>;
  send: Queue<SendJobData>;
  close(): Promise<void>;
}

export function createSendQueues(connection: ConnectionOptions, prefix: string): SendQueues {
  const fanout = new Queue<FanoutJobData>(FANOUT_QUEUE, { connection, prefix });
  const send = new Queue<SendJobData>(SEND_QUEUE, { connection, prefix });
  // Connection trouble is retried by ioredis; without listeners it is printed as unhandled.
  for (const q of [fanout, send]) q.on('error', () => undefined);
  return {
    fanout,
    send,
    close: async () => {
      await Promise.all([fanout.close(), send.close()]);
    },
  };
}

export async function enqueueSends(queue: Queue<SendJobData>, campaignId: number, subscriberIds: readonly number[]): Promise<void> {
  if (subscriberIds.length === 0) return;
  await queue.addBulk(
    subscriberIds.map((s) => ({
      name: 's',
      data: { c: campaignId, s },
      opts: { ...SEND_JOB_OPTIONS, jobId: sendJobId(campaignId, s) },
    })),
  );
}

export async function enqueueFanout(queue: Queue<FanoutJobData>, data: FanoutJobData, delay = 0): Promise<void> {
  await queue.add('fanout', data, { ...FANOUT_JOB_OPTIONS, jobId: fanoutJobId(data.campaignId), delay });
}
