/**
 * A worker process for the multi-process rate tests: shares one RateLimiter through
 * Redis with its siblings. Prints `ready` once connected, starts acquiring when it
 * reads `go` on stdin, and after RL_DURATION_MS (or once it was granted RL_COUNT
 * permits, if set) prints one JSON line with the wall clock time (ms, sub-ms precision)
 * of every permit it was granted.
 *
 * Env: RL_REDIS_URL, RL_PREFIX, RL_RATE, RL_CONCURRENCY, RL_DURATION_MS, RL_COUNT (optional).
 */
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { RateLimiter } from '../../src/queue/rate-limiter.js';
import { collectGrants } from '../support/grants.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is required`);
  return v;
};

const redis = new Redis(env('RL_REDIS_URL'), { maxRetriesPerRequest: null });
const limiter = new RateLimiter({ redis, prefix: env('RL_PREFIX'), ratePerSecond: Number(env('RL_RATE')) });
const concurrency = Number(env('RL_CONCURRENCY'));
const durationMs = Number(env('RL_DURATION_MS'));
const count = process.env.RL_COUNT ? Number(process.env.RL_COUNT) : Infinity;

await redis.ping();
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line.trim() === 'go') break;
lines.close();

const grants = await collectGrants(limiter, concurrency, durationMs, count);
process.stdout.write(`${JSON.stringify({ pid: process.pid, grants, counters: limiter.counters })}\n`);
redis.disconnect();
