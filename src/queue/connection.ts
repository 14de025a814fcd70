import { Redis, type RedisOptions } from 'ioredis';

/**
 * A Redis connection suitable for BullMQ workers (maxRetriesPerRequest: null, so
 * blocking commands survive a Redis restart) and for our own scripts.
 */
export function createRedisConnection(url: string, options: RedisOptions = {}, onError?: (err: Error) => void): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    // Reconnect forever with a capped backoff: a Redis restart mid-campaign must not kill workers.
    retryStrategy: (times) => Math.min(times * 100, 2000),
    ...options,
  });
  // ioredis reconnects by itself; without a listener every failed attempt is printed as "unhandled".
  redis.on('error', onError ?? (() => undefined));
  return redis;
}
