/**
 * Every Redis key this application writes, named in one place and all under the queue
 * prefix (QUEUE_PREFIX), so one prefix is one deployment: two installations sharing a
 * Redis with different prefixes never see each other's keys, and `<prefix>:*` is all of it.
 *
 * The first segment after the prefix is the family. BullMQ owns `<prefix>:<queue name>:*`
 * for each queue (src/queue/send-queues.ts, src/signup/confirmation-queue.ts), so no family
 * may be named like a queue; redis-keys.test.ts checks both.
 */

/** The families, in the order of the functions below. */
export const KEY_FAMILIES = ['ratelimit', 'metrics', 'session', 'signup', 'send-sweep-lock', 'test-send', 'sent-spill', 'preview', 'retention-lock'] as const;
export type KeyFamily = (typeof KEY_FAMILIES)[number];

export interface RedisKeys {
  /** The shared send-rate limiter's state hash (src/queue/rate-limiter.ts). */
  rateLimit(name: string): string;
  /** A fleet-wide counter hash of the /metrics endpoint (src/metrics/fleet-counters.ts). */
  fleetMetric(metric: string): string;
  /** A dashboard session; the id is hashed by the caller so Redis never holds a usable id. */
  session(idDigest: string): string;
  /** A sign-up form window counter, per client IP or per (hashed) address. */
  signupWindow(by: 'ip' | 'addr', digest: string): string;
  /** The lock that lets one worker of the fleet run the reconciler's sweep at a time. */
  sendSweepLock(): string;
  /** An API token's test-send window counter (src/http/api/test-send-limit.ts). */
  testSendWindow(tokenId: number): string;
  /** Accepted sends a stopping worker could not write to the database (workers/sent-spill.ts). */
  sentSpill(): string;
  /** A workspace preview document, served to its sandboxed iframe (src/http/admin/preview-documents.ts). */
  previewDocument(idDigest: string): string;
  /** The lock that lets one worker of the fleet run the retention prune at a time (workers/retention-job.ts). */
  retentionLock(): string;
  /** SCAN MATCH pattern for every key of this prefix, BullMQ's included (demo and test cleanup). */
  everything(): string;
}

/** `prefix` is QUEUE_PREFIX, which the config schema limits to letters, digits, _ and -. */
export function redisKeys(prefix: string): RedisKeys {
  const key = (family: KeyFamily, ...rest: string[]) => [prefix, family, ...rest].join(':');
  return {
    rateLimit: (name) => key('ratelimit', name),
    fleetMetric: (metric) => key('metrics', metric),
    session: (idDigest) => key('session', idDigest),
    signupWindow: (by, digest) => key('signup', by, digest),
    sendSweepLock: () => key('send-sweep-lock'),
    testSendWindow: (tokenId) => key('test-send', String(tokenId)),
    sentSpill: () => key('sent-spill'),
    previewDocument: (idDigest) => key('preview', idDigest),
    retentionLock: () => key('retention-lock'),
    everything: () => `${prefix}:*`,
  };
}
