/**
 * Issue 4 acceptance: pause/resume/cancel, unsubscribe mid-campaign, daily quota,
 * MessageRejected, scheduled sends. Counted from the simulator's record.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../support/send-harness.js';
import { sleep, waitFor } from '../support/pipeline.js';
import { SubscribersRepository } from '../../src/store/subscribers-repository.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const allOnce = (h: Harness, except: string[] = []) => {
  const counts = h.counts();
  for (const email of h.expectedEmails()) {
    if (except.includes(email)) expect(counts.get(email), email).toBeUndefined();
    else expect(counts.get(email), email).toBe(1);
  }
};

describe('campaign control', () => {
  it('pause stops new sends; resume completes the campaign exactly once', async () => {
    h = await createHarness({ subscribers: 600, sendRate: 100 });
    await h.startWorker();
    const id = await h.startCampaign();
    await waitFor('some sends', () => h!.sim.messages.length >= 100);
    expect(await h.ctx.orchestrator.pause(id, { code: 'editor' })).toBe(true);
    const whenPaused = h.sim.messages.length;
    await sleep(2000);
    // Counted, not timed: after the pause only sends already past the status check (at most
    // WORKER_CONCURRENCY = 20) and those a worker's cached 'sending' lets through for its 200 ms
    // at 100/s (about 20) may still go out; a pause that did not stop the worker would let
    // through everything it can send in 2 s. (How soon a pause takes effect is a latency.)
    const atPause = h.sim.messages.length;
    expect(atPause - whenPaused).toBeLessThanOrEqual(45);
    expect(atPause).toBeLessThan(600);
    expect((await h.ctx.orchestrator.stats(id)).status).toBe('paused');

    expect(await h.ctx.orchestrator.resume(id)).toBe(true);
    await h.waitForStatus(id, 'sent');
    allOnce(h);
    expect(h.sim.messages.length).toBe(600);
  });

  it('cancel leaves the rest unsent and says how many', async () => {
    h = await createHarness({ subscribers: 600, sendRate: 100 });
    await h.startWorker();
    const id = await h.startCampaign();
    await waitFor('some sends', () => h!.sim.messages.length >= 100);
    const { unsent } = await h.ctx.orchestrator.cancel(id);
    expect(unsent).toBeGreaterThan(0);
    // Sends in flight at the cancel complete (however long that takes); nothing else goes out.
    await waitFor('in-flight sends settled', () => h!.sim.messages.length + unsent >= 600);
    const sent = h.sim.messages.length;
    expect(sent + unsent).toBe(600);
    await sleep(1000);
    expect(h.sim.messages.length).toBe(sent);
    const stats = await h.ctx.orchestrator.stats(id);
    expect(stats).toMatchObject({ status: 'cancelled', cancelled: unsent, sent, queued: 0 });
    expect(new Set(h.sim.messages.map((m) => m.destinations[0])).size).toBe(sent);
  });

  it('an unsubscribe processed mid-campaign prevents that send', async () => {
    h = await createHarness({ subscribers: 400, sendRate: 100 });
    await h.startWorker();
    const id = await h.startCampaign();
    await waitFor('some sends', () => h!.sim.messages.length >= 20);
    const subs = new SubscribersRepository(h.store.db);
    await subs.unsubscribe(350, h.listId);
    await subs.unsubscribe(399, h.listId);
    await h.waitForStatus(id, 'sent');
    allOnce(h, ['reader350@example.com', 'reader399@example.com']);
    expect((await h.ctx.ledger.get(id, 350))?.status).toBe('skipped');
    const stats = await h.ctx.orchestrator.stats(id);
    expect(stats).toMatchObject({ sent: 398, unsubscribed: 2, failed: 0 });
  });

  it('daily-quota exhaustion pauses the campaign and it resumes when quota frees', async () => {
    h = await createHarness({ subscribers: 300, sendRate: 200, sim: { max24HourSend: 150 } });
    await h.startWorker();
    const id = await h.startCampaign();
    await waitFor('quota pause', async () => (await h!.ctx.campaigns.get(id))?.status === 'paused', 20_000);
    expect((await h.ctx.campaigns.get(id))?.paused_reason).toBe('quota');
    await sleep(1500);
    expect(h.sim.messages.length).toBe(150);
    // A new day: SES's quota frees; the worker's quota check resumes the campaign.
    h.sim.resetDailyUsage();
    await h.waitForStatus(id, 'sent', 30_000);
    allOnce(h);
    expect((await h.ctx.orchestrator.stats(id)).failed).toBe(0);
  });

  it('MessageRejected fails only that row', async () => {
    h = await createHarness({ subscribers: 100, sendRate: 200, sim: { rejectRecipients: ['reader7@example.com'] } });
    await h.startWorker();
    const id = await h.startCampaign();
    await h.waitForStatus(id, 'sent');
    allOnce(h, ['reader7@example.com']);
    const row = await h.ctx.ledger.get(id, 7);
    expect(row?.status).toBe('failed');
    expect(row?.attempts).toBe(1);
    expect(row?.last_error).toMatch(/MessageRejected/);
    expect(await h.ctx.orchestrator.stats(id)).toMatchObject({ sent: 99, failed: 1 });
  });

  it('5xx answers are retried with backoff: nothing lost, nobody twice', async () => {
    h = await createHarness({ subscribers: 200, sendRate: 200 });
    h.sim.injectFailures({ probability: 0.15, status: 503 });
    await h.startWorker();
    const id = await h.startCampaign();
    await h.waitForStatus(id, 'sent', 60_000);
    allOnce(h);
    expect(h.sim.stats().errors).not.toEqual({});
  });

  it('a send whose answer was lost (connection dropped) is left uncertain, then resent after UNCERTAIN_GRACE_S', async () => {
    h = await createHarness({ subscribers: 100, sendRate: 100 });
    h.sim.dropNext(3);
    await h.startWorker();
    const id = await h.startCampaign();
    // The dropped sends stay 'sending' (not resent at once, not skipped) …
    const left = await waitFor('rows left in flight', async () => {
      const rows = await h!.store.db.selectFrom('deliveries').select(['subscriber_id', 'attempts']).where('campaign_id', '=', id)
        .where('status', '=', 'sending').where('claimed_at', '<', Date.now() - 1000).execute();
      return rows.length === 3 ? rows : undefined;
    }, 20_000);
    expect((await h.ctx.orchestrator.stats(id)).status).toBe('sending');
    // … until the grace period passes without a Send event: then they are sent once.
    await h.waitForStatus(id, 'sent', 60_000);
    allOnce(h);
    for (const r of left) expect((await h.ctx.ledger.get(id, r.subscriber_id))?.attempts).toBe(2);
  });

  it('a scheduled send fires on time; one missed during downtime waits for confirmation', async () => {
    h = await createHarness({ subscribers: 50, sendRate: 200 });
    const at = Date.now() + 2000;
    const onTime = await h.startCampaign({ scheduledAt: at });
    const missed = await h.startCampaign({ scheduledAt: Date.now() - 2 * 3600_000 });
    await h.startWorker();
    await h.waitForStatus(onTime, 'sent', 20_000);
    const first = Math.min(...h.sim.messages.map((m) => m.at));
    // Not before its time; that it fired at all, with nothing else prompting it, is the
    // waitForStatus above (how soon after its time is a latency, not a property).
    expect(first).toBeGreaterThanOrEqual(at);
    const m = await h.ctx.campaigns.get(missed);
    expect(m?.status).toBe('scheduled');
    expect(m?.paused_reason).toBe('schedule-missed');
    expect(h.sim.messages.filter((x) => x.tags.campaign === String(missed))).toEqual([]);
    // The editor confirms.
    expect(await h.ctx.orchestrator.resume(missed)).toBe(true);
    await h.waitForStatus(missed, 'sent', 20_000);
    expect(h.sim.messages.filter((x) => x.tags.campaign === String(missed))).toHaveLength(50);
  });
});
