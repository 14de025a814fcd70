/**
 * A Redis restart mid-run (kill -9, state and script cache lost) delays permits but
 * neither fails nor deadlocks the callers, and the sliding-second bound still holds.
 * Runs a private redis-server on a free port so the shared one is never touched.
 * Progress is counted (permits before the kill, permits after the restart), so the test
 * holds however slow the machine is.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisConnection } from '../../src/queue/connection.js';
import { RateLimiter } from '../../src/queue/rate-limiter.js';
import { worstSlidingWindow } from '../../src/queue/sliding-window.js';
import { freePort } from '../../src/demo/local-services.js';
import { spawnRedisServer } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('RateLimiter and a Redis restart', () => {
  it('keeps granting after redis-server is killed and restarted, within the bound', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nl-redis-'));
    const port = await freePort();
    let server = await spawnRedisServer(port, dir);
    cleanups.push(() => {
      server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });
    const redis = createRedisConnection(`redis://127.0.0.1:${port}`);
    redis.on('error', () => {}); // connection refused while the server is down is expected
    cleanups.push(() => redis.disconnect());
    const rl = new RateLimiter({ redis, prefix: 'nltest-restart', ratePerSecond: 100 });

    const grants: number[] = [];
    const ac = new AbortController();
    const loops = Array.from({ length: 10 }, async () => {
      try {
        for (;;) {
          await rl.acquire(ac.signal);
          grants.push(performance.timeOrigin + performance.now());
        }
      } catch (err) {
        if (!ac.signal.aborted) throw err;
      }
    });

    await waitFor('permits before the kill', () => grants.length >= 60, 60_000, 5);
    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
    const killedAt = performance.timeOrigin + performance.now();
    await sleep(400);
    server = await spawnRedisServer(port, dir);
    const restartedAt = performance.timeOrigin + performance.now();
    // Keeps granting after the restart (a deadlock or a failed caller would not get here).
    await waitFor('100 permits after the restart', () => grants.filter((t) => t > restartedAt).length >= 100, 60_000, 20);
    ac.abort();
    await Promise.all(loops); // rethrows anything but the abort

    const after = grants.filter((t) => t > restartedAt);
    // Nothing granted while Redis was down beyond slots reserved before the kill (10 callers, 10 ms apart).
    expect(grants.filter((t) => t > killedAt + 150 && t < restartedAt)).toHaveLength(0);
    expect(after.length).toBeGreaterThanOrEqual(100);
    expect(worstSlidingWindow(grants)).toBeLessThanOrEqual(100);
    expect(await rl.effectiveRate()).toBe(100);
  });
});
