/**
 * Drive a rate limiter from `callers` concurrent loops; wall-clock grant times (ms).
 * Stops after `durationMs` (benchmarks: how many permits in that time), or as soon as
 * `maxGrants` permits were granted (tests: a count, however slow the machine; the
 * duration is then only a generous bound that fails a limiter which stalls).
 */
import type { RateLimiter } from '../../src/queue/rate-limiter.js';

export async function collectGrants(limiter: Pick<RateLimiter, 'acquire'>, callers: number, durationMs: number, maxGrants = Infinity): Promise<number[]> {
  const grants: number[] = [];
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), durationMs);
  await Promise.all(
    Array.from({ length: callers }, async () => {
      try {
        for (;;) {
          await limiter.acquire(ac.signal);
          if (ac.signal.aborted) break; // resolved in the tick the count was reached
          grants.push(performance.timeOrigin + performance.now());
          if (grants.length >= maxGrants) ac.abort();
        }
      } catch (err) {
        if (!ac.signal.aborted) throw err;
      }
    }),
  );
  clearTimeout(timer);
  return grants;
}
