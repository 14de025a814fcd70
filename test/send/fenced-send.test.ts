/**
 * Issue #17, items 2 and 3: a send is fenced by its claim's lease.
 *  - A worker frozen (SIGSTOP) right after its claims committed, for longer than the lease,
 *    the grace and BullMQ's job lock: the other worker's reconciler requeues and sends those
 *    rows, and the frozen worker, resumed, sends none of them again. While it is frozen it
 *    holds no row lock (its 'sent' batch is one statement, not an open transaction).
 *  - SES answers some sends only after the request deadline (the client times out although
 *    SES accepted) and publishes Send events late: the row is not resent while its Send event
 *    can still come, because the grace counts from the request deadline, not from the claim.
 * Counted per recipient at the simulator.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { createHarness, type Harness } from '../support/send-harness.js';
import { waitFor } from '../support/pipeline.js';

let h: Harness | undefined;
const clients: pg.Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.end().catch(() => undefined);
  await h?.close();
  h = undefined;
});

function exactlyOnce(h: Harness): void {
  const counts = h.counts();
  const missing = h.expectedEmails().filter((e) => !counts.has(e));
  const twice = [...counts.entries()].filter(([, k]) => k > 1).map(([e, k]) => `${e} ×${k}`);
  expect({ missing, twice }).toEqual({ missing: [], twice: [] });
}

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  clients.push(c);
  return c;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
  });
}

describe('fenced sends', () => {
  it('a worker frozen after its claims committed, past lease + grace and the job lock, sends nothing twice once resumed, and blocks nobody meanwhile', async () => {
    h = await createHarness({ dialect: 'postgres', subscribers: 400, sendRate: 100, sendEvents: true, sim: { latencyMs: 100 } });
    const id = await h.startCampaign();
    const frozen = await h.spawnWorker();
    await waitFor('some sends', () => h!.sim.messages.length >= 30, 30_000);

    const probe = await connect(h.store.url);
    const waitingOnLocks = async () =>
      Number((await probe.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0]!.n);
    const claimsWaiting = async () =>
      Number((await probe.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%SET status = ''sending''%'`)).rows[0]!.n);
    const claimedByFrozen = async () =>
      (await probe.query<{ subscriber_id: string; email: string }>(`SELECT subscriber_id, email FROM deliveries WHERE campaign_id = $1 AND status = 'sending' AND claimed_by LIKE $2`, [id, `%-${frozen.pid}-%`])).rows;
    const blocker = await connect(h.store.url);

    // The case under test needs rows the frozen worker holds a claim on and has NOT sent (it
    // would send them on waking). Claims (batched, workers/claim-batcher.ts) that were waiting on
    // the test's row locks commit while the worker is frozen: those are such rows. How many claim
    // statements are waiting when the worker is frozen depends on scheduling (a loaded machine
    // bunches them into one batch, or the worker's slots may all be awaiting their 'sent' write),
    // so the precondition is checked on what matters — stale claims whose message never reached
    // SES — and the freeze is retried (resume, let it send, freeze again) until it holds.
    let stale: Array<{ subscriber_id: string; email: string }> = [];
    let unsentStale: number[] = [];
    for (let round = 1; unsentStale.length === 0; round++) {
      if (round > 5) throw new Error('precondition never met in 5 rounds: no claim committed while the worker was frozen');
      // Hold every row of the campaign: the worker's next claims (and its 'sent' batch) wait on them.
      // Taking every row's lock can deadlock with an event-writer batch locking some of them in
      // another order; Postgres then aborts one side (40P01). If it picks ours, take them again.
      for (let attempt = 1; ; attempt++) {
        await blocker.query('BEGIN');
        try {
          await blocker.query('SELECT 1 FROM deliveries WHERE campaign_id = $1 ORDER BY subscriber_id FOR UPDATE', [id]);
          break;
        } catch (err) {
          await blocker.query('ROLLBACK');
          if ((err as { code?: string }).code !== '40P01' || attempt >= 5) throw err;
        }
      }
      const someClaimWaiting = await waitFor('a claim waiting on the row locks', async () => (await claimsWaiting()) >= 1, 20_000).catch(() => false);
      if (!someClaimWaiting) {
        await blocker.query('COMMIT');
        continue;
      }
      // Freeze the worker, then let its waiting statements run: its claims commit while it is frozen.
      frozen.kill('SIGSTOP');
      await blocker.query('COMMIT');
      // Bounded blocking, first part: no statement stays waiting on a row lock (the claims and the
      // Send event writes that queued behind the test's locks all finish although the worker is
      // frozen; a transaction the worker left open would hold its rows and keep them waiting).
      await waitFor('no statement waiting on a row lock', async () => (await waitingOnLocks()) === 0, 20_000);
      // Requests already out when the worker froze reach the simulator within its latency.
      await new Promise((r) => setTimeout(r, 500));
      stale = await claimedByFrozen();
      const atSes = h.counts();
      unsentStale = stale.filter((r) => !atSes.has(r.email.toLowerCase())).map((r) => Number(r.subscriber_id));
      if (unsentStale.length === 0) frozen.kill('SIGCONT');
    }
    expect(stale.length).toBeGreaterThan(0);

    // Second part: nothing the frozen worker left open holds a row lock. Every row of the
    // campaign can be written now, as the reconciler's requeue and the Send event writer must;
    // a transaction left open across the freeze would make its rows' writes time out. (Row by
    // row: one multi-row lock could deadlock with the event writer's own batches.)
    await probe.query('SET statement_timeout = 3000');
    const rowIds = (await probe.query<{ subscriber_id: string }>('SELECT subscriber_id FROM deliveries WHERE campaign_id = $1', [id])).rows;
    for (const r of rowIds) {
      await probe.query('UPDATE deliveries SET updated_at = updated_at WHERE campaign_id = $1 AND subscriber_id = $2', [id, r.subscriber_id]);
    }
    await probe.query('RESET statement_timeout');

    // The other worker's reconciler requeues the frozen claims never sent once lease + grace
    // have passed (by then the 2 s job lock has long expired too), and sends them; those whose
    // request was already out when the worker froze are confirmed by their Send events.
    const other = await h.spawnWorker();
    const settled = await waitFor('every frozen claim settled', async () => {
      const rows = await probe.query<{ status: string; claimed_by: string | null }>(
        `SELECT status, claimed_by FROM deliveries WHERE campaign_id = $1 AND subscriber_id = ANY($2::bigint[])`,
        [id, unsentStale],
      );
      return rows.rows.every((r) => r.status === 'sent') && rows.rows;
    }, 60_000, 200);
    // The case that matters happened: rows the frozen worker still held a claim on (and would
    // have sent on waking) were sent by the other worker.
    expect(settled.filter((r) => !(r.claimed_by ?? '').includes(`-${frozen.pid}-`)).length).toBeGreaterThan(0);

    // Resume the frozen worker, then stop it: SIGTERM waits for its in-flight jobs, so by its
    // exit it has done whatever it was going to do with its stale claims.
    frozen.kill('SIGCONT');
    frozen.kill('SIGTERM');
    expect(await exited(frozen)).toBe(0);
    await h.waitForStatus(id, 'sent', 60_000);
    other.kill('SIGTERM');
    await exited(other);
    exactlyOnce(h);
    expect(await h.ctx.orchestrator.stats(id)).toMatchObject({ sent: 400, failed: 0, queued: 0 });
  }, 180_000);

  it('SES answers some sends only after the request deadline and publishes Send events late: nobody twice, nobody missing', async () => {
    // Lease (request deadline) 2.5 s, grace 5 s: a timed-out row is requeued 7.5 s after its
    // claim. Send events come 6 s after acceptance: after "claim + grace" (where the old rule
    // requeued), before "deadline + grace". A fifth of the answers are held 3.5 s, past the deadline.
    h = await createHarness({
      subscribers: 300,
      sendRate: 100,
      sendEvents: true,
      env: { SES_REQUEST_TIMEOUT_S: '2.5', UNCERTAIN_GRACE_S: '5', LOG_LEVEL: 'error' },
      sim: { notifyDelayMs: 6000, holdResponses: { probability: 0.2, ms: 3500 } },
    });
    await h.startWorker();
    const id = await h.startCampaign();
    await h.waitForStatus(id, 'sent', 90_000);
    expect(h.sim.heldCount()).toBeGreaterThan(10);
    await h.sim.flushNotifications(15_000);
    exactlyOnce(h);
    expect(await h.ctx.orchestrator.stats(id)).toMatchObject({ sent: 300, failed: 0, queued: 0 });
  }, 180_000);
});
