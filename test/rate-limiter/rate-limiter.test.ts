/**
 * The global rate limiter against the machine's real Redis (unique prefix per test).
 * Several processes sharing one limiter: test/rate-limiter/multi-process.test.ts;
 * a Redis restart: test/rate-limiter/redis-restart.test.ts.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RateLimiter, type RateLimiterOptions } from '../../src/queue/rate-limiter.js';
import { averageRate, worstSlidingWindow } from '../../src/queue/sliding-window.js';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const connections: Redis[] = [];
const prefixes: string[] = [];

function connect(): Redis {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  connections.push(redis);
  return redis;
}

function limiter(opts: Partial<RateLimiterOptions> & { prefix: string; ratePerSecond: number }): RateLimiter {
  return new RateLimiter({ redis: connect(), ...opts });
}

function freshPrefix(): string {
  const p = uniquePrefix('ratelimit');
  prefixes.push(p);
  return p;
}

/**
 * Timing assertions fail when this process is starved of CPU (a machine loaded far
 * beyond its cores), not only when the limiter is wrong: failure messages carry the
 * limiter's counters and this process's event-loop delay so the two can be told apart.
 */
let diagnostics = '';

/** `concurrency` callers acquiring in a loop for `durationMs`; returns grant times. */
async function drive(rl: RateLimiter, concurrency: number, durationMs: number): Promise<number[]> {
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const grants: number[] = [];
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), durationMs);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      try {
        for (;;) {
          await rl.acquire(ac.signal);
          grants.push(now());
        }
      } catch (err) {
        if (!ac.signal.aborted) throw err;
      }
    }),
  );
  clearTimeout(timer);
  lag.disable();
  diagnostics = `${JSON.stringify(rl.counters)}, event-loop delay p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms`;
  return grants;
}

afterEach(async () => {
  for (const c of connections.splice(0)) c.disconnect();
  for (const p of prefixes.splice(0)) await deletePrefix(p);
});

describe('RateLimiter', () => {
  it('holds 200/s in every sliding second with an average of at least 95%', async () => {
    const rl = limiter({ prefix: freshPrefix(), ratePerSecond: 200 });
    const grants = await drive(rl, 20, 3000);
    expect(worstSlidingWindow(grants)).toBeLessThanOrEqual(200);
    expect(averageRate(grants), diagnostics).toBeGreaterThanOrEqual(190);
    expect(grants.length).toBeGreaterThanOrEqual(0.95 * 200 * 2.9);
  });

  it('respects 14/s (an interval that is not a whole number of ms)', async () => {
    const rl = limiter({ prefix: freshPrefix(), ratePerSecond: 14 });
    const grants = await drive(rl, 5, 2600);
    expect(worstSlidingWindow(grants)).toBeLessThanOrEqual(14);
    expect(averageRate(grants), diagnostics).toBeGreaterThanOrEqual(0.95 * 14);
  });

  it('spaces a non-integer rate for the whole number of permits a window can hold', async () => {
    const rl = limiter({ prefix: freshPrefix(), ratePerSecond: 10.7 });
    const grants = await drive(rl, 4, 2200);
    expect(worstSlidingWindow(grants)).toBeLessThanOrEqual(10);
    expect(averageRate(grants), diagnostics).toBeGreaterThanOrEqual(0.95 * 10);
  });

  it('is shared: two instances on separate connections split one rate', async () => {
    const prefix = freshPrefix();
    const a = limiter({ prefix, ratePerSecond: 100 });
    const b = limiter({ prefix, ratePerSecond: 100 });
    const [ga, gb] = await Promise.all([drive(a, 5, 2000), drive(b, 5, 2000)]);
    const all = [...ga, ...gb];
    expect(worstSlidingWindow(all)).toBeLessThanOrEqual(100);
    expect(averageRate(all), diagnostics).toBeGreaterThanOrEqual(95);
    // Both really took part (FIFO slots: each gets roughly its share of callers).
    expect(ga.length).toBeGreaterThan(all.length * 0.3);
    expect(gb.length).toBeGreaterThan(all.length * 0.3);
  });

  it('slows the whole fleet when one worker reports throttling', async () => {
    const prefix = freshPrefix();
    const opts = { prefix, ratePerSecond: 100, recoveryPerSecond: 0.05, throttleCooldownMs: 300 };
    const reporter = limiter(opts);
    const sender = limiter(opts);
    await sender.setRate(100);
    await reporter.reportThrottled();
    const lowered = await sender.effectiveRate();
    expect(lowered).toBeGreaterThanOrEqual(70);
    expect(lowered).toBeLessThan(71);
    // Every in-flight send throttled at once reports the same congestion: one decrease.
    await reporter.reportThrottled();
    await reporter.reportThrottled();
    expect(await sender.effectiveRate()).toBeGreaterThanOrEqual(70);
    // The other worker now sends at the lowered rate.
    const grants = await drive(sender, 10, 1500);
    expect(worstSlidingWindow(grants)).toBeLessThanOrEqual(75);
    expect(averageRate(grants)).toBeGreaterThanOrEqual(0.95 * 70);
    // After the cooldown a new report decreases again.
    const recovered = await sender.effectiveRate(); // +5/s since the first decrease
    expect(recovered).toBeGreaterThan(lowered);
    await reporter.reportThrottled();
    const again = await sender.effectiveRate();
    expect(again).toBeGreaterThanOrEqual(0.7 * recovered);
    expect(again).toBeLessThan(0.7 * recovered + 0.5);
  });

  it('recovers additively to the configured rate and never drops below the floor', async () => {
    const prefix = freshPrefix();
    const rl = limiter({ prefix, ratePerSecond: 100, recoveryPerSecond: 1, throttleCooldownMs: 0, minRateFraction: 0.1 });
    await rl.setRate(100);
    for (let i = 0; i < 20; i++) await rl.reportThrottled();
    const floor = await rl.effectiveRate();
    expect(floor).toBeGreaterThanOrEqual(10);
    expect(floor).toBeLessThan(15); // 100 * 0.7^20 would be 0.08 without the floor
    await sleep(300);
    const mid = await rl.effectiveRate();
    expect(mid).toBeGreaterThan(floor + 15); // +100/s per second, linear
    expect(mid).toBeLessThan(100);
    await sleep(700);
    expect(await rl.effectiveRate()).toBe(100);
  });

  it('applies a rate change made at runtime by another process', async () => {
    const prefix = freshPrefix();
    const worker = limiter({ prefix, ratePerSecond: 100 });
    const admin = limiter({ prefix, ratePerSecond: 100 });
    const grants: number[] = [];
    const ac = new AbortController();
    const loops = Array.from({ length: 5 }, async () => {
      try {
        for (;;) {
          await worker.acquire(ac.signal);
          grants.push(now());
        }
      } catch (err) {
        if (!ac.signal.aborted) throw err;
      }
    });
    await sleep(600);
    const changedAt = now();
    await admin.setRate(30);
    await sleep(1600);
    ac.abort();
    await Promise.all(loops);
    expect(await worker.effectiveRate()).toBe(30);
    const before = grants.filter((t) => t < changedAt);
    // Slots reserved before the change (5 callers, 10 ms apart) are honoured; after that, 30/s.
    const after = grants.filter((t) => t > changedAt + 100);
    expect(averageRate(before)).toBeGreaterThan(90);
    expect(worstSlidingWindow(after)).toBeLessThanOrEqual(30);
    expect(averageRate(after)).toBeGreaterThanOrEqual(0.95 * 30);
  });

  it("asserts a newly started instance's configured rate on its first acquire", async () => {
    const prefix = freshPrefix();
    const old = limiter({ prefix, ratePerSecond: 100 });
    await old.acquire();
    expect(await old.effectiveRate()).toBe(100);
    const restarted = limiter({ prefix, ratePerSecond: 40 });
    await restarted.acquire();
    expect(await old.effectiveRate()).toBe(40);
  });

  it('a follower (assertRate: false) uses the fleet rate and imposes its own only on a fresh state', async () => {
    const prefix = freshPrefix();
    const worker = limiter({ prefix, ratePerSecond: 50 });
    await worker.acquire();
    const follower = limiter({ prefix, ratePerSecond: 500, assertRate: false });
    await follower.acquire();
    expect(await worker.effectiveRate()).toBe(50);
    const alone = limiter({ prefix: freshPrefix(), ratePerSecond: 20, assertRate: false });
    await alone.acquire();
    expect(await alone.effectiveRate()).toBe(20);
  });

  it('keeps the bound when Redis loses its state mid-run', async () => {
    const prefix = freshPrefix();
    const rl = limiter({ prefix, ratePerSecond: 200 });
    const admin = connect();
    const deleting = (async () => {
      await sleep(700);
      await admin.del(rl.key);
      await sleep(700);
      await admin.del(rl.key);
    })();
    const grants = await drive(rl, 30, 2500);
    await deleting;
    // 30 callers hold slots up to 150 ms ahead; without the instance's floor the
    // fresh state would hand out overlapping slots and this window would exceed 200.
    expect(worstSlidingWindow(grants)).toBeLessThanOrEqual(200);
    expect(averageRate(grants), diagnostics).toBeGreaterThanOrEqual(190);
  });

  it('keeps the bound through event-loop stalls: pushes the schedule back or discards late slots', async () => {
    // Block this process's event loop now and then, as a starved or GC-pausing
    // worker would: permits wake up late and, granted as they are, would bunch with
    // the slots after them (with the lateness checks disabled this fails at 11 > 10).
    const stallEvery = (everyMs: number, stallMs: number): NodeJS.Timeout =>
      setInterval(() => {
        const until = performance.now() + stallMs;
        while (performance.now() < until) {
          // busy: nothing else runs
        }
      }, everyMs);

    // 10/s: a 45 ms stall is less than one interval (102.5 ms), so pushing the
    // shared schedule back by the lateness is cheaper than losing the slot.
    const slow = limiter({ prefix: freshPrefix(), ratePerSecond: 10 });
    let stalls = stallEvery(170, 45);
    const slowGrants = await drive(slow, 3, 2500);
    clearInterval(stalls);
    // Which of the two remedies a late wake-up gets depends on how late it was; that the
    // stalls made permits late (and were handled) is what matters, with the bound intact.
    expect(slow.counters.pushedBack + slow.counters.staleSlots, diagnostics).toBeGreaterThan(0);
    expect(worstSlidingWindow(slowGrants), diagnostics).toBeLessThanOrEqual(10);

    // 100/s: a 60 ms stall spans several intervals; late slots are given up.
    const fast = limiter({ prefix: freshPrefix(), ratePerSecond: 100 });
    stalls = stallEvery(230, 60);
    const fastGrants = await drive(fast, 10, 2500);
    clearInterval(stalls);
    expect(fast.counters.staleSlots, diagnostics).toBeGreaterThan(0);
    expect(worstSlidingWindow(fastGrants), diagnostics).toBeLessThanOrEqual(100);
    expect(averageRate(fastGrants), diagnostics).toBeGreaterThanOrEqual(0.8 * 100);
  });

  it('rejects promptly on abort, before and while waiting', async () => {
    const rl = limiter({ prefix: freshPrefix(), ratePerSecond: 1 });
    const pre = new AbortController();
    pre.abort(new Error('shutting down'));
    await expect(rl.acquire(pre.signal)).rejects.toThrow('shutting down');
    await rl.acquire(); // takes the current slot; the next is a second away
    const ac = new AbortController();
    const started = performance.now();
    setTimeout(() => ac.abort(), 50);
    await expect(rl.acquire(ac.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('rejects rates that are not positive numbers', async () => {
    expect(() => new RateLimiter({ redis: connect(), prefix: 'x', ratePerSecond: 0 })).toThrow(RangeError);
    const rl = limiter({ prefix: freshPrefix(), ratePerSecond: 5 });
    await expect(rl.setRate(Number.NaN)).rejects.toThrow(RangeError);
  });
});
