/**
 * BullMQ queue names, job payloads and job ids for the send pipeline. Job data is ids
 * only; rendered HTML never goes into Redis.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { QueuedRow } from '../store/delivery-ledger.js';

export const FANOUT_QUEUE = 'fanout';
export const SEND_QUEUE = 'send';

export interface FanoutJobData {
  campaignId: number;
  /** Re-enqueue a campaign's 'queued' ledger rows (after resume or a lost Redis) before continuing the audience. */
  requeue?: { after: number; updatedBefore?: number };
}

/**
 * Recipients per send job. BullMQ pays per job: a fetch (moveToActive), a finish
 * (moveToFinished) and an add, a Redis script call each plus the worker's job handling; a job
 * of SEND_BATCH recipients pays them once for all of them (issue #15). Each recipient is still
 * claimed, sent and written on its own (workers/send-processor.ts): the batch changes how
 * recipients reach a worker, not what makes a send happen once.
 */
export const SEND_BATCH = 10;

/**
 * Short keys: at 100,000 waiting recipients every byte counts in Redis. `s`: one subscriber
 * (a job of its own) or a batch of them (ascending ids).
 */
export interface SendJobData {
  c: number;
  s: number | number[];
}

/** The subscribers a send job carries. */
export const recipientsOf = (data: SendJobData): number[] => (Array.isArray(data.s) ? data.s : [data.s]);

/**
 * BullMQ 6 job ids may not contain ':'. One id per (campaign, subscriber) for a job of its own,
 * one per (campaign, batch) for a batch: adding it twice is a no-op while it exists.
 */
export const sendJobId = (campaignId: number, subscriberId: number) => `c${campaignId}-s${subscriberId}`;
export const sendBatchJobId = (campaignId: number, batch: number) => `c${campaignId}-b${batch}`;

/**
 * A send job to add: `batch` is its key, the first subscriber id of the batch as the fan-out
 * formed it, which the ledger keeps in each member's row (`deliveries.send_batch`, migration
 * 0026); null: each subscriber gets a job of its own.
 */
export interface SendBatch {
  batch: number | null;
  subscriberIds: number[];
}

/** The fan-out's batches of a page of subscribers (ascending ids): consecutive runs of SEND_BATCH, keyed by their first id. */
export function formBatches(subscriberIds: readonly number[], size = SEND_BATCH): SendBatch[] {
  const batches: SendBatch[] = [];
  for (let i = 0; i < subscriberIds.length; i += size) {
    const ids = subscriberIds.slice(i, i + size);
    batches.push({ batch: ids[0]!, subscriberIds: ids });
  }
  return batches;
}

/**
 * The jobs that carry these queued rows again (resume, requeue after a lost Redis or an
 * uncertain send): the rows of one fan-out batch go back into one job with that batch's id, so
 * while the batch's job still waits, adding it is a no-op, as it was per recipient.
 */
export function batchesOfRows(rows: readonly QueuedRow[]): SendBatch[] {
  const byBatch = new Map<number, number[]>();
  const batches: SendBatch[] = [];
  for (const r of rows) {
    if (r.sendBatch === null) {
      batches.push({ batch: null, subscriberIds: [r.subscriberId] });
      continue;
    }
    let ids = byBatch.get(r.sendBatch);
    if (!ids) {
      ids = [];
      byBatch.set(r.sendBatch, ids);
      batches.push({ batch: r.sendBatch, subscriberIds: ids });
    }
    ids.push(r.subscriberId);
  }
  return batches;
}

/**
 * A full keyset page of queued rows (ascending subscriber id) may end inside a batch whose other
 * members are in the next page; re-adding the batch's job from this page would leave them out
 * (the next page's add of the same id is a no-op while the job waits). So a full page stops
 * before its last batch: keep the rows below that batch's key (its first, lowest id) and go on
 * after key − 1. A page that is all one batch, or not full, is kept whole.
 */
export function wholeBatchPage(rows: readonly QueuedRow[], limit: number): { rows: readonly QueuedRow[]; after: number | undefined } {
  if (rows.length < limit || rows.length === 0) return { rows, after: undefined };
  const last = rows[rows.length - 1]!;
  if (last.sendBatch !== null) {
    const cut = last.sendBatch;
    const kept = rows.filter((r) => r.subscriberId < cut);
    if (kept.length > 0) return { rows: kept, after: cut - 1 };
  }
  return { rows, after: last.subscriberId };
}

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

export async function enqueueSends(queue: Queue<SendJobData>, campaignId: number, batches: readonly SendBatch[]): Promise<void> {
  const jobs: { name: string; data: SendJobData; opts: JobsOptions }[] = [];
  for (const b of batches) {
    if (b.subscriberIds.length === 0) continue;
    if (b.batch === null) {
      for (const s of b.subscriberIds) jobs.push({ name: 's', data: { c: campaignId, s }, opts: { ...SEND_JOB_OPTIONS, jobId: sendJobId(campaignId, s) } });
    } else {
      jobs.push({ name: 's', data: { c: campaignId, s: b.subscriberIds }, opts: { ...SEND_JOB_OPTIONS, jobId: sendBatchJobId(campaignId, b.batch) } });
    }
  }
  if (jobs.length > 0) await queue.addBulk(jobs);
}

export async function enqueueFanout(queue: Queue<FanoutJobData>, data: FanoutJobData, delay = 0): Promise<void> {
  await queue.add('fanout', data, { ...FANOUT_JOB_OPTIONS, jobId: fanoutJobId(data.campaignId), delay });
}
