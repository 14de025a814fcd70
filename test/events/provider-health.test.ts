/**
 * Per-provider health through the real webhook (signed SNS, real store on both backends):
 * 3% bounces at one provider and none elsewhere pause the campaign through the orchestrator
 * with that provider and its SMTP status in the reason, although the campaign-wide rate (1%)
 * is far under its 5% limit; deferrals are counted per provider; stats show the figures.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSnsSigningIdentity, signedNotification, type SnsSigningIdentity } from '../../src/simulator/sns-signer.js';
import { CampaignHealthRepository } from '../../src/store/campaign-health-repository.js';
import { deriveProviders } from '../../src/campaigns/campaign-health.js';
import { BACKENDS } from '../support/store.js';
import { TEST_TOPIC } from './fixtures.js';
import { createHarness, type Harness } from './harness.js';
import { seedCampaign, seedDeliveries, seedList } from '../support/seed.js';

let identity: SnsSigningIdentity;
beforeAll(async () => {
  identity = await createSnsSigningIdentity();
});

const MS_DIAGNOSTIC = 'smtp; 550 5.7.515 Access denied, sending domain example.org does not meet the required authentication level.';

function bounce(email: string, messageId: string, campaignId: number) {
  return {
    eventType: 'Bounce',
    bounce: {
      bounceType: 'Permanent',
      bounceSubType: 'General',
      bouncedRecipients: [{ emailAddress: email, action: 'failed', status: '5.7.515', diagnosticCode: MS_DIAGNOSTIC }],
      timestamp: new Date().toISOString(),
    },
    mail: { messageId, destination: [email], timestamp: new Date().toISOString(), tags: { campaign: [String(campaignId)] } },
  };
}

function delay(email: string, messageId: string, campaignId: number) {
  return {
    eventType: 'DeliveryDelay',
    mail: { messageId, destination: [email], timestamp: new Date().toISOString(), tags: { campaign: [String(campaignId)] } },
    deliveryDelay: {
      timestamp: new Date().toISOString(),
      delayType: 'TransientCommunicationFailure',
      delayedRecipients: [{ emailAddress: email, status: '4.7.28', diagnosticCode: 'smtp; 421 4.7.28 Gmail has detected an unusual rate of unsolicited mail' }],
    },
  };
}

describe.each(BACKENDS)('per-provider health (%s)', (dialect) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('3% bounces at Microsoft and 0% elsewhere pause the campaign with the provider and the SMTP status in the reason', async () => {
    // Campaign-wide limits far away (5% bounces): only the per-provider limit (default 3%) can trip.
    h = await createHarness(dialect, identity);
    expect(h.config.BREAKER_PROVIDER_BOUNCE_RATE).toBe(0.03);
    const db = h.store.db;
    const list = await seedList(db, 'default');
    const c = await seedCampaign(db, list, 'sending');
    await seedDeliveries(db, c, 150, { emailPrefix: 'g', sesPrefix: 'gm-', status: 'delivered', domain: 'gmail.com' });
    await seedDeliveries(db, c, 50, { emailPrefix: 'y', sesPrefix: 'ya-', status: 'delivered', domain: 'yahoo.com' });
    await seedDeliveries(db, c, 100, { emailPrefix: 'o', sesPrefix: 'ms-', status: 'delivered', domain: 'outlook.com' });
    const post = async (message: object) => (await h.post(signedNotification(message, identity, { topicArn: TEST_TOPIC }))).status;
    const status = async () => db.selectFrom('campaigns').select(['status', 'paused_reason', 'paused_note']).where('id', '=', c).executeTakeFirstOrThrow();

    // Deferrals at Gmail: counted, never a pause on their own.
    expect(await post(delay('g1@gmail.com', 'gm-1', c))).toBe(200);
    expect(await post(delay('g2@gmail.com', 'gm-2', c))).toBe(200);
    expect(await post(bounce('o0@outlook.com', 'ms-0', c))).toBe(200);
    expect(await post(bounce('o1@outlook.com', 'ms-1', c))).toBe(200);
    expect((await status()).status).toBe('sending'); // 2% at Microsoft
    expect(await post(bounce('o2@outlook.com', 'ms-2', c))).toBe(200);

    const paused = await status();
    expect(paused.status).toBe('paused');
    expect(paused.paused_reason).toBe('provider-breaker');
    expect(paused.paused_note).toBe('microsoft bounce rate 3.00% (3/100) reached the per-provider limit 3.00%; most frequent SMTP status 5.7.515');
    expect(h.pauser.calls).toEqual([{ campaignId: c, reason: { code: 'provider-breaker', note: paused.paused_note }, paused: true }]);
    expect(h.logs.some((l) => l.msg === 'reputation breaker paused a campaign' && l.code === 'provider-breaker')).toBe(true);

    // What stats and the dashboard show: per provider, never mixed.
    const providers = deriveProviders(await new CampaignHealthRepository(db).providerCounts(c));
    expect(Object.keys(providers)).toEqual(['gmail', 'microsoft', 'yahoo']);
    expect(providers.microsoft).toMatchObject({ sent: 100, delivered: 97, bounced: 3, bounce_rate: 0.03, deferred: 0, top_status: '5.7.515' });
    expect(providers.gmail).toMatchObject({ sent: 150, delivered: 150, bounced: 0, bounce_rate: 0, deferred: 2, top_status: '4.7.28' });
    expect(providers.yahoo).toMatchObject({ sent: 50, bounced: 0, deferred: 0, top_status: null });
  });

  it('the same 3 bounces spread over three providers do not pause (each is 1–2%, the campaign 1%)', async () => {
    h = await createHarness(dialect, identity);
    const db = h.store.db;
    const list = await seedList(db, 'default');
    const c = await seedCampaign(db, list, 'sending');
    await seedDeliveries(db, c, 150, { emailPrefix: 'g', sesPrefix: 'gm-', status: 'delivered', domain: 'gmail.com' });
    await seedDeliveries(db, c, 100, { emailPrefix: 'o', sesPrefix: 'ms-', status: 'delivered', domain: 'hotmail.co.uk' });
    await seedDeliveries(db, c, 100, { emailPrefix: 'w', sesPrefix: 'wd-', status: 'delivered', domain: 'web.de' });
    for (const [email, id] of [['g0@gmail.com', 'gm-0'], ['o0@hotmail.co.uk', 'ms-0'], ['w0@web.de', 'wd-0']] as const) {
      expect((await h.post(signedNotification(bounce(email, id, c), identity, { topicArn: TEST_TOPIC }))).status).toBe(200);
    }
    expect((await db.selectFrom('campaigns').select('status').where('id', '=', c).executeTakeFirstOrThrow()).status).toBe('sending');
    expect(h.pauser.calls).toEqual([]);
  });
});
