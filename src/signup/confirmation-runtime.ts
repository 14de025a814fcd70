/**
 * The confirmation side of a worker process, wired from the config: the BullMQ worker on
 * the confirmation queue (sending through the process's SES transport and global rate
 * limiter) and the periodic cleanup of expired sign-ups.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { MailTransport, RateLimiter } from '../campaigns/ports.js';
import { createRedisConnection } from '../queue/connection.js';
import type { Store } from '../store/db.js';
import { openRepositories } from '../store/repositories.js';
import { createConfirmationSender } from './confirmation-sender.js';
import { startConfirmationWorker, type ConfirmationWorker } from './confirmation-queue.js';
import { signupSecrets } from './signed-links.js';

export interface ConfirmationRuntimeDeps {
  store: Store;
  transport: MailTransport;
  limiter: RateLimiter;
  logger?: Logger;
  now?: () => number;
  sweepIntervalMs?: number;
}

export function startConfirmationRuntime(config: Config & { FROM_ADDRESS: string }, deps: ConfirmationRuntimeDeps): ConfirmationWorker {
  const now = deps.now ?? Date.now;
  const repos = openRepositories(deps.store, now);
  const connection = createRedisConnection(config.REDIS_URL);
  const worker = startConfirmationWorker({
    connection,
    prefix: config.QUEUE_PREFIX,
    process: createConfirmationSender({
      repos,
      transport: deps.transport,
      limiter: deps.limiter,
      from: config.FROM_ADDRESS,
      publicUrl: config.PUBLIC_URL,
      secret: signupSecrets(config)[0]!,
      listName: config.LIST_NAME,
      now,
      logger: deps.logger,
    }),
    sweep: async () => {
      const n = await repos.signupRequests.deleteExpired(now());
      if (n > 0) deps.logger?.info({ expired: n }, 'expired sign-up requests removed');
    },
    sweepIntervalMs: deps.sweepIntervalMs,
    onError: (err) => deps.logger?.error({ err: err.message }, 'confirmation worker error'),
  });
  return {
    worker: worker.worker,
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}
