/**
 * Issue 14, canary wave under kill -9: the worker killed while the wave goes out and again
 * while the rest waits (the deadline passes with no worker alive). The wait's end is a
 * persisted deadline acted on by the next worker's sweep, and the ledger keeps each
 * subscriber to one message across the wave, the crashes and the release: nobody skipped,
 * nobody twice. Counted from the SES simulator's record; SQLite and PostgreSQL.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { createHarness, type Harness } from '../support/send-harness.js';
import { sleep, waitFor } from '../support/pipeline.js';
import { BACKENDS } from '../support/store.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe.each(BACKENDS)('canary wave crash safety (%s)', (dialect) => {
  it('kill -9 during the wave and during the wait: the wave stays the wave, the rest goes once, nobody twice', async () => {
    // 20% of 300 = 60 in the wave at 20/s: about 3 s of wave to kill a worker in.
    h = await createHarness({
      dialect,
      subscribers: 300,
      sendRate: 20,
      sendEvents: true,
      sim: { latencyMs: 15 },
      env: { CANARY_PERCENT: '20', CANARY_WAIT_MIN: String(3 / 60) },
    });
    const id = await h.startCampaign();
    let worker = await h.spawnWorker();

    // During the wave.
    await waitFor('part of the wave sent', async () => h!.sim.messages.length >= 10, 60_000, 20);
    await killed(worker);
    const atKill = h.sim.messages.length;
    expect(atKill).toBeLessThan(60);
    expect((await h.ctx.campaigns.get(id))!.canary_phase).toBe('wave');
    worker = await h.spawnWorker();

    // The wave is out (rows left in flight by the kill were settled by SES's Send events or resent after the grace).
    await waitFor('the rest waits', async () => (await h!.ctx.campaigns.get(id))!.canary_phase === 'waiting', 90_000, 50);
    expect(h.sim.messages.length).toBe(60);

    // During the wait: killed, and the deadline passes with no worker alive.
    await killed(worker);
    const until = (await h.ctx.campaigns.get(id))!.canary_until!;
    await sleep(Math.max(0, until - Date.now()) + 1500);
    expect(h.sim.messages.length).toBe(60);
    expect((await h.ctx.campaigns.get(id))!).toMatchObject({ status: 'sending', canary_phase: 'waiting' });

    // A new worker's sweep finds the passed deadline in the database and releases the rest.
    worker = await h.spawnWorker();
    await h.waitForStatus(id, 'sent', 120_000);
    const counts = h.counts();
    const missing = h.expectedEmails().filter((e) => !counts.has(e));
    const twice = [...counts.entries()].filter(([, n]) => n > 1).map(([e]) => e);
    expect({ missing, twice }).toEqual({ missing: [], twice: [] });
    const wave = await h.store.db.selectFrom('deliveries').select('subscriber_id').where('campaign_id', '=', id).where('wave', '=', 1).execute();
    expect(wave).toHaveLength(60);
    const stats = await h.ctx.orchestrator.stats(id);
    expect(stats).toMatchObject({ sent: 300, failed: 0, uncertain: 0, queued: 0 });
    expect((await h.ctx.orchestrator.activity(id)).map((e) => e.action)).toEqual(['created', 'started', 'canary-wave', 'canary-waiting', 'canary-released', 'finished']);
  }, 240_000);
});
