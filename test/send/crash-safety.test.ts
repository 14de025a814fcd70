/**
 * Issue 4 acceptance: kill -9 of worker processes, several worker processes at once, and
 * a Redis restart mid-campaign. Workers run as child processes where the item needs it;
 * everything is counted from the simulator's record.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/demo/local-services.js';
import { spawnRedisServer } from '../support/redis.js';
import { createHarness, type Harness } from '../support/send-harness.js';
import { sleep, waitFor } from '../support/pipeline.js';

let h: Harness | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const c of cleanups.splice(0)) await c();
});

function exactlyOnce(h: Harness): void {
  const counts = h.counts();
  const missing = h.expectedEmails().filter((e) => !counts.has(e));
  const twice = [...counts.entries()].filter(([, n]) => n > 1).map(([e]) => e);
  expect({ missing, twice }).toEqual({ missing: [], twice: [] });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('crash safety', () => {
  it('five kill -9s of the worker, each followed by a restart: nobody skipped, nobody twice (Send events on)', async () => {
    // Latency after acceptance widens the window between SES accepting and our 'sent' write.
    h = await createHarness({ subscribers: 1200, sendRate: 150, sendEvents: true, sim: { latencyMs: 15 } });
    const id = await h.startCampaign();
    let worker = await h.spawnWorker();
    for (let i = 0; i < 5; i++) {
      await sleep(700 + Math.random() * 900);
      await killed(worker);
      worker = await h.spawnWorker();
    }
    await h.waitForStatus(id, 'sent', 90_000);
    exactlyOnce(h);
    const stats = await h.ctx.orchestrator.stats(id);
    expect(stats).toMatchObject({ sent: 1200, failed: 0, uncertain: 0, queued: 0 });
  }, 150_000);

  it('three worker processes on Postgres keep the global rate and send exactly once', async () => {
    h = await createHarness({ dialect: 'postgres', subscribers: 1500, sendRate: 150, sim: { maxSendRate: 150 } });
    const t0 = Date.now();
    const id = await h.startCampaign();
    await Promise.all([h.spawnWorker(), h.spawnWorker(), h.spawnWorker()]);
    const t1 = Date.now();
    await h.waitForStatus(id, 'sent', 90_000);
    const first = h.sim.messages[0]!.at;
    const last = h.sim.messages[h.sim.messages.length - 1]!.at;
    console.log(`three workers: spawn ${t1 - t0} ms, first send +${first - t0} ms, sending ${last - first} ms, done +${Date.now() - t0} ms`);
    exactlyOnce(h);
    expect(h.sim.worstWindow(1000)).toBeLessThanOrEqual(150);
    // Permits are spaced on Redis's clock; HTTP arrival jitter at the simulator can still
    // bunch a few requests over its sliding second. Those few are answered Throttling and
    // retried as back-pressure (nothing lost, above); a fleet ignoring the global limit
    // would be throttled on a third of its sends.
    expect(h.sim.throttleCount()).toBeLessThan(1500 * 0.02);
    // All three took part.
    const rows = await h.store.db.selectFrom('deliveries').select('claimed_by').distinct().where('campaign_id', '=', id).execute();
    expect(rows.length).toBe(3);
  }, 150_000);

  it('SIGTERM: the worker finishes in-flight sends, exits 0, and a new worker completes the campaign exactly once', async () => {
    h = await createHarness({ subscribers: 500, sendRate: 100, sim: { latencyMs: 50 } });
    const id = await h.startCampaign();
    const worker = await h.spawnWorker();
    await waitFor('some sends', () => h!.sim.messages.length >= 100);
    const exit = new Promise<number | null>((r) => worker.once('exit', (code) => r(code)));
    worker.kill('SIGTERM');
    expect(await exit).toBe(0);
    // Nothing left in flight: every claimed row was settled before exit.
    const sending = await h.store.db.selectFrom('deliveries').select('subscriber_id').where('campaign_id', '=', id).where('status', '=', 'sending').execute();
    expect(sending).toEqual([]);
    await h.spawnWorker();
    await h.waitForStatus(id, 'sent', 60_000);
    exactlyOnce(h);
  }, 120_000);

  it('Redis restarted mid-campaign (data lost): the campaign completes, nothing lost, no duplicates', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'nl-redis-'));
    let redis = await spawnRedisServer(port, dir);
    cleanups.push(async () => {
      await killed(redis);
      rmSync(dir, { recursive: true, force: true });
    });
    h = await createHarness({ subscribers: 800, sendRate: 150, redisUrl: `redis://127.0.0.1:${port}` });
    await h.startWorker();
    const id = await h.startCampaign();
    await waitFor('some sends', () => h!.sim.messages.length >= 200);
    await killed(redis);
    await sleep(1000);
    redis = await spawnRedisServer(port, dir);
    await h.waitForStatus(id, 'sent', 90_000);
    exactlyOnce(h);
  });
});
