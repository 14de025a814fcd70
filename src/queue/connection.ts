import { Redis, type RedisOptions } from 'ioredis';

/**
 * A Redis connection suitable for BullMQ workers (maxRetriesPerRequest: null, so
 * blocking commands survive a Redis restart) and for our own scripts.
 */
export function createRedisConnection(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    // Reconnect forever with a capped backoff: a Redis restart mid-campaign must not kill workers.
    retryStrategy: (times) => Math.min(times * 100, 2000),
    ...options,
  });
}
