/** Drive a rate limiter from `callers` concurrent loops for `durationMs`; wall-clock grant times (ms). */
import type { RateLimiter } from '../../src/queue/rate-limiter.js';

export async function collectGrants(limiter: Pick<RateLimiter, 'acquire'>, callers: number, durationMs: number): Promise<number[]> {
  const grants: number[] = [];
  const ac = new AbortController();
  setTimeout(() => ac.abort(), durationMs);
  await Promise.all(
    Array.from({ length: callers }, async () => {
      try {
        for (;;) {
          await limiter.acquire(ac.signal);
          grants.push(performance.timeOrigin + performance.now());
        }
      } catch (err) {
        if (!ac.signal.aborted) throw err;
      }
    }),
  );
  return grants;
}
