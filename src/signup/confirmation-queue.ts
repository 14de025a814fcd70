/**
 * The confirmation-mail queue: separate from the bulk `send` queue and served by its own
 * BullMQ worker, so a reader's confirmation never waits behind a campaign's backlog. It
 * takes its permits from the same global rate limiter as campaign sends, so together they
 * stay inside the SES rate. Job data is the request id only.
 */
import { Queue, Worker, type ConnectionOptions, type JobsOptions } from 'bullmq';

export const CONFIRMATION_QUEUE = 'confirmation';

export interface ConfirmationJobData {
  /** signup_requests.id */
  r: number;
}

/** BullMQ 6 job ids may not contain ':'. */
export const confirmationJobId = (requestId: number) => `signup-r${requestId}`;

export const CONFIRMATION_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: true,
  removeOnFail: 1000,
};

export function createConfirmationQueue(connection: ConnectionOptions, prefix: string): Queue<ConfirmationJobData> {
  return new Queue<ConfirmationJobData>(CONFIRMATION_QUEUE, { connection, prefix });
}

export async function enqueueConfirmation(queue: Queue<ConfirmationJobData>, requestId: number): Promise<void> {
  await queue.add('confirm', { r: requestId }, { ...CONFIRMATION_JOB_OPTIONS, jobId: confirmationJobId(requestId) });
}

export interface ConfirmationWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  process: (data: ConfirmationJobData) => Promise<unknown>;
  concurrency?: number;
  /** Periodic cleanup of expired sign-ups (SignupRequestsRepository.deleteExpired); run every sweepIntervalMs. */
  sweep?: () => Promise<unknown>;
  sweepIntervalMs?: number;
  onError?: (err: Error) => void;
}

export interface ConfirmationWorker {
  worker: Worker<ConfirmationJobData>;
  close(): Promise<void>;
}

export function startConfirmationWorker(options: ConfirmationWorkerOptions): ConfirmationWorker {
  const worker = new Worker<ConfirmationJobData>(CONFIRMATION_QUEUE, (job) => options.process(job.data), {
    connection: options.connection,
    prefix: options.prefix,
    // Each in-flight job holds one limiter slot; enough of them that a burst of sign-ups is not
    // queued behind itself while bulk sends hold WORKER_CONCURRENCY slots.
    concurrency: options.concurrency ?? 16,
  });
  worker.on('error', (err) => options.onError?.(err));
  let timer: NodeJS.Timeout | undefined;
  if (options.sweep) {
    const sweep = options.sweep;
    const run = () => void sweep().catch((err: unknown) => options.onError?.(err instanceof Error ? err : new Error(String(err))));
    timer = setInterval(run, options.sweepIntervalMs ?? 10 * 60_000);
    timer.unref();
    run();
  }
  return {
    worker,
    async close() {
      if (timer) clearInterval(timer);
      await worker.close();
    },
  };
}
