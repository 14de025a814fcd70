/**
 * Issue 5 through the whole pipeline: campaign → worker → real AWS SDK → strict SES
 * simulator → signed SNS notifications → POST /webhooks/ses → subscriber store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSurfaceHarness, SAMPLE_MARKDOWN, sleep, type SurfaceHarness } from '../support/surface-harness.js';

describe('SES mailbox simulator through the real pipeline', () => {
  let h: SurfaceHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  async function subscribe(harness: SurfaceHarness, list: string, emails: string[]): Promise<void> {
    for (const email of emails) {
      const added = await harness.api('POST', '/api/subscribers', { token: harness.tokens.admin, body: { email, list } });
      expect(added.status, added.text).toBe(201);
    }
  }

  async function sendCampaign(harness: SurfaceHarness, list: string): Promise<number> {
    const created = await harness.api('POST', '/api/campaigns', { token: harness.tokens.admin, body: { markdown: SAMPLE_MARKDOWN, list } });
    expect(created.status, created.text).toBe(201);
    const id = (created.json.campaign as { id: number }).id;
    const sent = await harness.api('POST', `/api/campaigns/${id}/send`, { token: harness.tokens.admin, body: {} });
    expect(sent.status, sent.text).toBe(202);
    return id;
  }

  it('bounce@ and complaint@ end up bounced / complained and suppressed after the send', async () => {
    h = await createSurfaceHarness({ sendRate: 50 });
    const harness = h;
    const bounced = ['bounce+p1@simulator.amazonses.com', 'bounce+p2@simulator.amazonses.com'];
    const complained = ['complaint+p1@simulator.amazonses.com'];
    const fine = ['success+p1@simulator.amazonses.com', 'success+p2@simulator.amazonses.com'];
    await subscribe(harness, 'pipeline', [...fine, ...bounced, ...complained]);
    await harness.startWorker();
    await sendCampaign(harness, 'pipeline');

    const expected = new Map<string, string>([...bounced.map((e) => [e, 'bounced'] as const), ...complained.map((e) => [e, 'complained'] as const), ...fine.map((e) => [e, 'active'] as const)]);
    const settledAfter = new Map<string, number>();
    const deadline = Date.now() + 30_000;
    while (settledAfter.size < bounced.length + complained.length && Date.now() < deadline) {
      for (const [email, status] of expected) {
        if (status === 'active' || settledAfter.has(email)) continue;
        const accepted = harness.sim.messages.find((m) => m.destinations.includes(email));
        if (!accepted) continue;
        const row = await harness.store.db
          .selectFrom('subscribers')
          .leftJoin('suppressions', 'suppressions.email', 'subscribers.email')
          .select(['subscribers.status', 'suppressions.reason'])
          .where('subscribers.email', '=', email)
          .executeTakeFirst();
        if (row?.status === status && row.reason) settledAfter.set(email, Date.now() - accepted.at);
      }
      await sleep(20);
    }
    for (const [email, status] of expected) {
      const show = await harness.api('GET', `/api/subscribers/${encodeURIComponent(email)}`, { token: harness.tokens.admin });
      expect((show.json.subscriber as { status: string } | undefined)?.status ?? show.json.status, email).toBe(status);
      if (status !== 'active') expect(settledAfter.has(email), `${email} settled`).toBe(true);
    }
    // How soon (goal ≤ 2 s after SES accepted the send) depends on the CPU: bench/bounce-settle.ts measures it.
    console.log(`[pipeline-events] settled ${[...settledAfter.values()].join(', ')} ms after acceptance`);
    const suppressed = await harness.store.db.selectFrom('suppressions').select(['email', 'reason']).orderBy('email').execute();
    expect(suppressed.map((s) => s.email).sort()).toEqual([...bounced, ...complained].sort());
  });

  it('the reputation breaker pauses a campaign whose complaint rate passes the threshold', async () => {
    h = await createSurfaceHarness({ sendRate: 20, env: { BREAKER_MIN_DELIVERIES: '5', COMPLAINT_RATE_LIMIT: '0.1' } });
    const harness = h;
    // 120 readers (six seconds at 20/s: room for the complaints' round trip on a busy
    // machine), a quarter of whom complain: far over 10% once five have been sent.
    const emails = Array.from({ length: 120 }, (_, i) => (i % 4 === 0 ? `complaint+b${i}@simulator.amazonses.com` : `success+b${i}@simulator.amazonses.com`));
    await subscribe(harness, 'breaker', emails);
    await harness.startWorker();
    const id = await sendCampaign(harness, 'breaker');
    let campaign: { status: string; paused_reason: string | null; paused_note: string | null } | undefined;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      campaign = await harness.store.db.selectFrom('campaigns').select(['status', 'paused_reason', 'paused_note']).where('id', '=', id).executeTakeFirst();
      if (campaign?.status === 'paused') break;
      await sleep(50);
    }
    expect(campaign?.status).toBe('paused');
    expect(campaign?.paused_reason).toBe('breaker');
    expect(campaign?.paused_note).toMatch(/complaint/i);
    // Paused before everyone was mailed: the breaker stopped the rest.
    await sleep(1000);
    expect(harness.sim.messages.length).toBeLessThan(emails.length);
  });
});
