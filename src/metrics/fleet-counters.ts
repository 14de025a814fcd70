/**
 * Send and SES-error counts for the whole fleet. Sends happen in worker processes, which
 * serve no /metrics; the server does. So every process adds its counts to a Redis hash
 * (buffered, one pipeline per second, and on close), and the server's /metrics reports
 * the hash's totals plus its own unflushed counts. Fields are label values the caller has
 * already folded into a fixed set (src/metrics/registry.ts), so the hash stays bounded.
 * A worker killed with SIGKILL loses at most its last second of counts; a Redis without
 * persistence that restarts resets the totals (Prometheus handles counter resets).
 */
import type { Redis } from 'ioredis';
import { redisKeys } from '../queue/redis-keys.js';

export type FleetMetric = 'sends' | 'ses_errors';
export type FleetTotals = Record<FleetMetric, Record<string, number>>;

const METRICS: readonly FleetMetric[] = ['sends', 'ses_errors'];

export class FleetCounters {
  private pending: FleetTotals = { sends: {}, ses_errors: {} };
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    flushIntervalMs = 1000,
  ) {
    this.timer = setInterval(() => void this.flush().catch(() => undefined), flushIntervalMs);
    this.timer.unref();
  }

  private key(metric: FleetMetric): string {
    return redisKeys(this.prefix).fleetMetric(metric);
  }

  add(metric: FleetMetric, label: string, count = 1): void {
    if (count <= 0) return;
    const m = this.pending[metric];
    m[label] = (m[label] ?? 0) + count;
  }

  /** Move the buffered counts into Redis; on failure they stay buffered for the next try. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const batch = this.pending;
      this.pending = { sends: {}, ses_errors: {} };
      const pipeline = this.redis.pipeline();
      let n = 0;
      for (const metric of METRICS) {
        for (const [label, count] of Object.entries(batch[metric])) {
          pipeline.hincrby(this.key(metric), label, count);
          n++;
        }
      }
      if (n === 0) return;
      try {
        const results = (await pipeline.exec()) ?? [];
        if (results.some(([err]) => err)) throw new Error('HINCRBY failed');
      } catch (err) {
        // Put the batch back (a partly applied pipeline may count some twice; never drop counts).
        for (const metric of METRICS) for (const [label, count] of Object.entries(batch[metric])) this.add(metric, label, count);
        throw err;
      }
    });
    return this.flushing;
  }

  /**
   * Fleet totals: what every process flushed, plus this process's counts not yet flushed.
   * The reads go out on the connection the flushes use, so Redis answers them after any
   * flush already sent; the unflushed counts are taken at that same moment.
   */
  async totals(): Promise<FleetTotals> {
    const unflushed: FleetTotals = { sends: { ...this.pending.sends }, ses_errors: { ...this.pending.ses_errors } };
    const [sends, sesErrors] = await Promise.all(METRICS.map((metric) => this.redis.hgetall(this.key(metric))));
    const stored: Record<FleetMetric, Record<string, string>> = { sends: sends ?? {}, ses_errors: sesErrors ?? {} };
    const out: FleetTotals = { sends: {}, ses_errors: {} };
    for (const metric of METRICS) {
      for (const [label, value] of Object.entries(stored[metric])) out[metric][label] = Number(value);
      for (const [label, count] of Object.entries(unflushed[metric])) out[metric][label] = (out[metric][label] ?? 0) + count;
    }
    return out;
  }

  /** Stop the timer and flush what is left, waiting at most `timeoutMs` (Redis may be down: never hold up a shutdown). */
  async close(timeoutMs = 2000): Promise<void> {
    clearInterval(this.timer);
    await withTimeout(this.flush(), timeoutMs).catch(() => undefined);
  }
}

/** Rejects if `promise` has not settled within `ms` (a command queued while Redis is down never settles). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
