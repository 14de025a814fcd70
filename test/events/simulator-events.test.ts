/**
 * The SES simulator's mailbox addresses, sent to over the real AWS SDK, post signed SNS
 * events to the real listening webhook: bounce@ and complaint@ subscribers end up
 * bounced / complained and suppressed (latency: bench/webhook.ts). (The full send pipeline
 * version of this check belongs to the integration tests.)
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SesTransport } from '../../src/ses/ses-transport.js';
import { startSesSimulator, type SesSimulator } from '../../src/simulator/ses-simulator.js';
import { createSnsSigningIdentity, type SnsSigningIdentity } from '../../src/simulator/sns-signer.js';
import { BACKENDS } from '../support/store.js';
import { TEST_TOPIC } from './fixtures.js';
import { createHarness, type Harness } from './harness.js';
import { delivery, seedCampaign, seedDelivery, seedList, seedSubscriber, subscriberByEmail, suppression } from '../support/seed.js';

let identity: SnsSigningIdentity;
beforeAll(async () => {
  identity = await createSnsSigningIdentity();
});

const raw = (to: string) => Buffer.from(`From: editor@example.com\r\nTo: ${to}\r\nSubject: hi\r\nMessage-ID: <${Math.random()}@example.com>\r\n\r\nhello\r\n`);

describe.each(BACKENDS)('SES simulator → SNS → webhook (%s)', (dialect) => {
  let h: Harness;
  let sim: SesSimulator | undefined;
  let transport: SesTransport | undefined;
  afterEach(async () => {
    transport?.destroy();
    await sim?.close();
    await h?.close();
  });

  it('bounce@ and complaint@ subscribers are bounced / complained and suppressed; success@ is delivered', async () => {
    h = await createHarness(dialect, identity);
    const db = h.store.db;
    const address = await h.app.listen({ port: 0, host: '127.0.0.1' });
    sim = await startSesSimulator({ notifyUrl: `${address}/webhooks/ses`, signingIdentity: identity, topicArn: TEST_TOPIC, maxSendRate: 100, deliverAll: true });
    transport = new SesTransport({ region: 'us-east-1', endpoint: sim.url });

    const list = await seedList(db, 'default');
    const campaign = await seedCampaign(db, list, 'sending');
    const people = ['bounce@simulator.amazonses.com', 'complaint@simulator.amazonses.com', 'success@simulator.amazonses.com'];
    const ids: number[] = [];
    for (const email of people) {
      const id = await seedSubscriber(db, email, [list]);
      ids.push(id);
      await seedDelivery(db, { campaignId: campaign, subscriberId: id, email, status: 'sending' });
    }

    const started = Date.now();
    for (const [i, email] of people.entries()) {
      const { messageId } = await transport.sendRaw({ raw: raw(email), from: 'editor@example.com', to: email, tags: { campaign: String(campaign), subscriber: String(ids[i]) } });
      // What the send pipeline records after SES accepts (the Send event may already have done it).
      await db.updateTable('deliveries').set({ ses_message_id: messageId, status: 'sent', sent_at: Date.now() }).where('campaign_id', '=', campaign).where('subscriber_id', '=', ids[i]!).where('status', '=', 'sending').execute();
    }

    const done = async () =>
      (await subscriberByEmail(db, people[0]!)).status === 'bounced' &&
      (await subscriberByEmail(db, people[1]!)).status === 'complained' &&
      (await delivery(db, campaign, ids[2]!)).status === 'delivered';
    // Functional check with a generous bound (shared CI machines); the two-second figure is measured in bench/webhook.ts.
    while (!(await done()) && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 25));
    expect(await done()).toBe(true);

    expect((await suppression(db, people[0]!))?.reason).toBe('bounced');
    expect((await suppression(db, people[1]!))?.reason).toBe('complained');
    expect(await suppression(db, people[2]!)).toBeUndefined();
    expect((await subscriberByEmail(db, people[2]!)).status).toBe('active');
    expect((await delivery(db, campaign, ids[0]!)).status).toBe('bounced');
    await sim.flushNotifications(5000);
    expect((await delivery(db, campaign, ids[1]!)).status).toBe('complained');
    // Every notification the simulator posted was accepted (2xx) by the verified webhook.
    expect(sim.notifications.length).toBeGreaterThanOrEqual(6);
    expect(sim.notifications.every((n) => n.status === 'delivered')).toBe(true);
    // Send events confirmed every ledger row.
    for (const id of ids) expect((await delivery(db, campaign, id)).confirmed_at).not.toBeNull();
  });
});
