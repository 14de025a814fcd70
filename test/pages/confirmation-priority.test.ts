/**
 * A confirmation mail does not wait behind a campaign: it has its own queue and worker in
 * the worker process, yet takes its permits from the same global limiter, so campaign and
 * confirmations together stay inside the SES rate. Counted from the SES simulator; how
 * long a confirmation takes (a latency, which depends on the CPU) is bench/signup.ts's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { buildApp } from '../../src/http/app.js';
import { campaignPauser } from '../support/campaign-pauser.js';
import { createRedisConnection } from '../../src/queue/connection.js';
import { openSignupPages } from '../../src/signup/signup-pages.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { createHarness, type Harness } from '../support/send-harness.js';
import { sleep, waitFor } from '../support/pipeline.js';
import { FORM } from './harness.js';

const RATE = 12;
const SUBSCRIBERS = 150;
const SIGNUPS = 10;

describe('confirmation mails during a campaign', () => {
  let h: Harness;
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await h?.close();
  });

  it('go out ahead of the campaign backlog, inside the shared SES rate; the pending reader gets no campaign', async () => {
    h = await createHarness({ subscribers: SUBSCRIBERS, sendRate: RATE, sim: { maxSendRate: RATE } });
    await h.startWorker();
    const redis = createRedisConnection(TEST_REDIS_URL);
    const pages = openSignupPages(h.config, redis);
    const app = await buildApp({ config: h.config, store: h.store, campaignPauser: campaignPauser(h.store), logger: pino({ level: 'silent' }), signup: pages.signup });
    cleanups.push(async () => {
      await app.close();
      await pages.close();
      redis.disconnect();
    });

    const campaignId = await h.startCampaign();
    const campaignMails = () => h.sim.messages.filter((m) => m.destinations[0]!.startsWith('reader')).length;
    await waitFor('campaign under way', () => campaignMails() >= 2 * RATE, 20_000, 20);

    // Ten readers sign up at once while the campaign's backlog is queued.
    const emails = Array.from({ length: SIGNUPS }, (_, i) => `eager${i}@example.org`);
    const answers = await Promise.all(
      emails.map((email, i) => app.inject({ method: 'POST', url: '/subscribe', headers: FORM, remoteAddress: `203.0.113.${i + 1}`, payload: `email=${encodeURIComponent(email)}` })),
    );
    for (const res of answers) expect(res.statusCode).toBe(200);
    const backlogAtAnswer = SUBSCRIBERS - campaignMails();
    const accepted = await waitFor('confirmations accepted', () => {
      const found = emails.map((e) => h.sim.messages.find((m) => m.destinations.includes(e)));
      return found.every(Boolean) ? found.map((m) => m!.at) : null;
    }, 60_000, 10);
    await h.waitForStatus(campaignId, 'sent', 60_000);
    await sleep(200);
    expect(campaignMails()).toBe(SUBSCRIBERS);
    // Confirmations outside the shared limiter would each land in a full second: ~one
    // Throttling per confirmation. The campaign alone shows at most one on this loaded
    // machine at 12/s (timer jitter beyond the limiter's 25 ms margin), hence ≤ 2 against ~10.
    expect(h.sim.throttleCount()).toBeLessThanOrEqual(2);
    expect(h.sim.worstWindow()).toBeLessThanOrEqual(RATE);
    // Every confirmation went out while the campaign's backlog was still being sent: queued
    // behind the campaign it would have been last. (How many campaign mails still go first
    // depends on how fast this process prepares the confirmation while the campaign sends
    // at its rate: bench/signup.ts reports it with the latency.)
    const lastConfirmation = Math.max(...accepted);
    const campaignAfter = h.sim.messages.filter((m) => m.destinations[0]!.startsWith('reader') && m.at > lastConfirmation).length;
    expect(campaignAfter, `campaign mails sent after the last confirmation, of ${backlogAtAnswer} queued at the sign-ups`).toBeGreaterThan(0);
    // The unconfirmed readers got their confirmation and nothing else, each exactly once.
    for (let i = 0; i < SIGNUPS; i++) expect(h.sim.messages.filter((m) => m.destinations.includes(`eager${i}@example.org`))).toHaveLength(1);
    console.log(`[confirmation-priority] ${backlogAtAnswer - campaignAfter} of ${backlogAtAnswer} queued campaign mails went before the last confirmation, ${campaignAfter} campaign mails sent after the last one at ${RATE}/s; throttles ${h.sim.throttleCount()}; worst sliding second ${h.sim.worstWindow()}`);
  });
});
