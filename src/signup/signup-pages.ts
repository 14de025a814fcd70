/**
 * What `serve` needs to turn on the public sign-up pages: the confirmation queue (for
 * bull-board and the queue-depth gauge too) and the AppDeps.signup value.
 *
 *   const pages = openSignupPages(config, redis);
 *   buildServer({ ...deps, signup: pages.signup, queues: [...queues, pages.queue] });
 *   …on shutdown: await pages.close();
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { createRedisConnection } from '../queue/connection.js';
import { createConfirmationQueue, enqueueConfirmation, type ConfirmationJobData } from './confirmation-queue.js';
import { signupSecrets } from './signed-links.js';

export interface SignupPages {
  signup: { redis: Redis; enqueueConfirmation: (requestId: number) => Promise<void> };
  queue: Queue<ConfirmationJobData>;
  close(): Promise<void>;
}

/** Throws ConfigError when neither SIGNUP_SECRET nor UNSUBSCRIBE_SECRET is set. */
export function openSignupPages(config: Config, redis: Redis): SignupPages {
  signupSecrets(config);
  const connection = createRedisConnection(config.REDIS_URL);
  const queue = createConfirmationQueue(connection, config.QUEUE_PREFIX);
  return {
    signup: { redis, enqueueConfirmation: (id) => enqueueConfirmation(queue, id) },
    queue,
    async close() {
      await queue.close();
      connection.disconnect();
    },
  };
}
