import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { createSnsSigningIdentity, signedNotification, signSnsEnvelope, type SnsSigningIdentity } from '../../src/simulator/sns-signer.js';
// The dashboard's production queries (engineer A moves them into src/store/: update this import then).
import { DashboardQueries } from '../../src/http/admin/dashboard-queries.js';
import type { SnsEnvelope } from '../../src/events/sns-message.js';
import { BACKENDS } from '../support/store.js';
import { changeAt, docExamples, signedExample, TEST_TOPIC } from './fixtures.js';
import { createHarness, type Harness } from './harness.js';
import { delivery, seedCampaign, seedDeliveries, seedDelivery, seedList, seedSubscriber, subscriberByEmail, suppression } from '../support/seed.js';

let identity: SnsSigningIdentity;
beforeAll(async () => {
  identity = await createSnsSigningIdentity();
});

const ID = {
  bounceWithDsn: '00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000',
  bounceWithoutDsn: '00000137860315fd-34208509-5b74-41f3-95c5-22c1edc3c924-000000',
  complaintWithFeedback: '000001378603177f-7a5433e7-8edb-42ae-af10-f0181f34d6ee-000000',
  delivery: '0000014644fe5ef6-9a483358-9170-4cb4-a269-f5dcdf415321-000000',
  eventPublishing: 'EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000',
};

async function snapshot(h: Harness) {
  const db = h.store.db;
  return {
    deliveries: await db.selectFrom('deliveries').selectAll().orderBy('campaign_id').orderBy('subscriber_id').execute(),
    subscribers: await db.selectFrom('subscribers').selectAll().orderBy('id').execute(),
    suppressions: await db.selectFrom('suppressions').selectAll().orderBy('email').execute(),
    campaigns: await db.selectFrom('campaigns').select(['id', 'status', 'paused_reason']).orderBy('id').execute(),
    events: await db.selectFrom('events').select(['sns_message_id', 'type', 'email', 'campaign_id']).orderBy('id').execute(),
  };
}

function bounceMessage(email: string, opts: { type?: string; subType?: string; messageId?: string; tags?: Record<string, string[]>; at?: string } = {}) {
  return {
    eventType: 'Bounce',
    bounce: {
      bounceType: opts.type ?? 'Permanent',
      bounceSubType: opts.subType ?? 'General',
      bouncedRecipients: [{ emailAddress: email, diagnosticCode: 'smtp; 550 no such user' }],
      timestamp: opts.at ?? new Date().toISOString(),
    },
    mail: { messageId: opts.messageId ?? `unknown-${Math.random()}`, destination: [email], timestamp: new Date().toISOString(), tags: opts.tags ?? {} },
  };
}

function complaintMessage(email: string, sesMessageId: string) {
  return {
    notificationType: 'Complaint',
    complaint: { complainedRecipients: [{ emailAddress: email }], complaintFeedbackType: 'abuse', timestamp: new Date().toISOString() },
    mail: { messageId: sesMessageId, destination: [email], timestamp: new Date().toISOString() },
  };
}

describe.each(BACKENDS)('POST /webhooks/ses (%s)', (dialect) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  for (const version of ['1', '2'] as const) {
    it(`accepts every AWS documentation example signed v${version}, applies its effect once, and ignores replays`, async () => {
      h = await createHarness(dialect, identity);
      const db = h.store.db;
      const list = await seedList(db, 'default');
      const jane = await seedSubscriber(db, 'jane@example.com', [list]);
      const mary = await seedSubscriber(db, 'mary@example.com', [list]);
      const richard = await seedSubscriber(db, 'richard@example.com', [list]);
      const recipient = await seedSubscriber(db, 'recipient@example.com', [list]);
      const c = await seedCampaign(db, list, 'sent');
      const c2 = await seedCampaign(db, list, 'sent');
      const c3 = await seedCampaign(db, list, 'sent');
      await seedDelivery(db, { campaignId: c, subscriberId: jane, email: 'jane@example.com', sesMessageId: ID.bounceWithDsn });
      await seedDelivery(db, { campaignId: c, subscriberId: richard, email: 'richard@example.com', sesMessageId: ID.bounceWithoutDsn });
      await seedDelivery(db, { campaignId: c2, subscriberId: richard, email: 'richard@example.com', sesMessageId: ID.complaintWithFeedback });
      await seedDelivery(db, { campaignId: c2, subscriberId: jane, email: 'jane@example.com', sesMessageId: ID.delivery });
      await seedDelivery(db, { campaignId: c3, subscriberId: recipient, email: 'recipient@example.com', sesMessageId: ID.eventPublishing });
      await seedDelivery(db, { campaignId: c3, subscriberId: mary, email: 'mary@example.com', sesMessageId: 'never-mentioned' });

      const envelopes = docExamples.map((e) => signedExample(e, identity, version));
      for (const [i, env] of envelopes.entries()) {
        const res = await h.post(env);
        expect(res.status, docExamples[i]!.kind).toBe(200);
      }

      // Subscription confirmed by GETting the (validated) SubscribeURL; unsubscription logged loudly.
      expect(h.confirmSubscription).toHaveBeenCalledTimes(1);
      expect(h.confirmSubscription).toHaveBeenCalledWith(docExamples[0]!.payload.SubscribeURL);
      expect(h.logs.some((l) => l.level === 40 && /REMOVED/.test(l.msg))).toBe(true);
      // Logging at info: the subscription change is logged, but not every request (Fastify's
      // "incoming request" / "request completed" lines would cost more than the signature check).
      expect(h.logs.some((l) => l.level === 30 && l.msg === 'SNS webhook: subscription confirmed')).toBe(true);
      expect(h.logs.filter((l) => l.msg === 'incoming request' || l.msg === 'request completed')).toEqual([]);

      // Subscribers by address.
      expect((await subscriberByEmail(db, 'jane@example.com')).status).toBe('bounced');
      expect((await subscriberByEmail(db, 'mary@example.com')).status).toBe('active');
      expect((await subscriberByEmail(db, 'richard@example.com')).status).toBe('complained');
      expect((await subscriberByEmail(db, 'recipient@example.com')).status).toBe('complained');
      expect((await suppression(db, 'jane@example.com'))?.reason).toBe('bounced');
      // Bounced first (bounce-without-dsn), then complained: the store keeps the first suppression reason.
      expect((await suppression(db, 'richard@example.com'))?.reason).toBe('bounced');
      expect((await suppression(db, 'recipient@example.com'))?.reason).toBe('bounced');
      expect(await suppression(db, 'mary@example.com')).toBeUndefined();

      // Ledger by SES message id, with status precedence (complained is never undone by Delivery/Reject).
      expect((await delivery(db, c, jane)).status).toBe('bounced');
      expect((await delivery(db, c, richard)).status).toBe('bounced');
      expect((await delivery(db, c2, richard)).status).toBe('complained');
      expect((await delivery(db, c2, jane)).status).toBe('delivered');
      const rec = await delivery(db, c3, recipient);
      expect(rec.status).toBe('complained');
      expect(rec.confirmed_at).toBe(Date.parse('2016-10-14T05:02:16.645Z'));
      expect(rec.opened_at).toBe(Date.parse('2017-08-09T22:00:19.652Z'));
      expect(rec.clicked_at).toBe(Date.parse('2017-08-09T23:51:25.570Z'));
      expect((await delivery(db, c3, mary)).status).toBe('sent');

      // The click as the dashboard shows it, and every event type stored once against its campaign and subscriber.
      const dashboard = new DashboardQueries(h.store);
      expect(await dashboard.topLinks(c3)).toEqual([{ url: 'http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html', clicks: 1 }]);
      expect((await dashboard.recentProblems(c3)).map((e) => e.type).sort()).toEqual(['bounce', 'complaint']);
      const c3Events = await db.selectFrom('events').select(['type', 'subscriber_id']).where('campaign_id', '=', c3).orderBy('type').execute();
      expect(c3Events).toEqual(
        ['bounce', 'click', 'complaint', 'delivery', 'delivery_delay', 'open', 'reject', 'rendering_failure', 'send'].map((type) => ({ type, subscriber_id: recipient })),
      );

      // Unknown ids are stored, not fatal: the Subscription event and the plain "Hello world!" notification.
      const other = await db.selectFrom('events').select(['type', 'campaign_id']).where('type', 'in', ['other', 'subscription']).execute();
      expect(other.map((o) => o.type).sort()).toEqual(['other', 'subscription']);
      // 15 SES/SNS notifications, bounce-without-dsn has two recipients.
      expect(await db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).toEqual({ n: 17 });

      // Replays change nothing.
      const before = await snapshot(h);
      for (const env of envelopes) {
        const res = await h.post(env);
        expect(res.status).toBe(200);
        if (env.Type === 'Notification') expect(res.json.applied).toBe(false);
      }
      expect(await snapshot(h)).toEqual(before);
    });
  }

  it('rejects every example with one byte changed (403) and stores nothing', async () => {
    h = await createHarness(dialect, identity);
    const db = h.store.db;
    const list = await seedList(db, 'default');
    await seedSubscriber(db, 'jane@example.com', [list]);
    await seedSubscriber(db, 'richard@example.com', [list]);
    for (const version of ['1', '2'] as const) {
      for (const example of docExamples) {
        const env = signedExample(example, identity, version);
        for (const field of ['Message', 'MessageId', 'Timestamp', 'Signature'] as const) {
          const value = env[field];
          const i = Math.floor(value.length / 2);
          const res = await h.post({ ...env, [field]: changeAt(value, i) });
          expect(res.status, `${example.kind} ${field}`).toBe(403);
        }
      }
    }
    expect(h.confirmSubscription).not.toHaveBeenCalled();
    expect(await db.selectFrom('events').selectAll().execute()).toEqual([]);
    expect((await subscriberByEmail(db, 'jane@example.com')).status).toBe('active');
    expect(h.logs.filter((l) => l.msg === 'SNS webhook: rejected').length).toBeGreaterThan(100);
  });

  it('answers 400 to malformed bodies and 403 to foreign cert URLs and topics, without asking for a certificate', async () => {
    h = await createHarness(dialect, identity);
    for (const body of ['', 'not json', '{"Type":"Notification"}', '[]']) {
      expect((await h.post(body)).status, body).toBe(400);
    }
    for (const url of [
      'https://sns.us-east-1.amazonaws.com.evil.example/x.pem',
      'https://s3.amazonaws.com/x/SimpleNotificationService-1.pem',
      'http://sns.us-east-1.amazonaws.com/x.pem',
      'https://sns.us-east-1.amazonaws.com:444/x.pem',
      'https://a:b@sns.us-east-1.amazonaws.com/x.pem',
      'https://sns.us-east-1.amazonaws.com/x.pem?a=b',
      'https://sns.us-east-1.amazonaws.com/x.pem#f',
      'https://sns.us-east-1.amazonaws.com/x.crt',
    ]) {
      const env = signedNotification(bounceMessage('x@example.com'), { ...identity, certUrl: url }, { topicArn: TEST_TOPIC });
      expect((await h.post(env)).status, url).toBe(403);
    }
    const wrongTopic = signedNotification(bounceMessage('x@example.com'), identity, { topicArn: 'arn:aws:sns:us-east-1:999:other' });
    expect((await h.post(wrongTopic)).status).toBe(403);
    expect(h.certificateSource.getCertificate).not.toHaveBeenCalled();
    const v3 = { ...signedNotification(bounceMessage('x@example.com'), identity, { topicArn: TEST_TOPIC }), SignatureVersion: '3' };
    expect((await h.post(v3)).status).toBe(403);
    expect(h.logs.some((l) => l.reason === 'invalid-cert-url')).toBe(true);
  });

  it('does not confirm a validly signed subscription whose SubscribeURL leaves the SNS hosts', async () => {
    h = await createHarness(dialect, identity);
    const base = { ...docExamples[0]!.payload, Timestamp: new Date().toISOString() } as unknown as SnsEnvelope;
    const evil = signSnsEnvelope({ ...base, SubscribeURL: 'https://sns.us-west-2.amazonaws.com.evil.example/?Action=ConfirmSubscription' }, identity, '2');
    expect((await h.post(evil)).status).toBe(403);
    const plain = signSnsEnvelope({ ...base, SubscribeURL: 'http://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription' }, identity, '2');
    expect((await h.post(plain)).status).toBe(403);
    expect(h.confirmSubscription).not.toHaveBeenCalled();
  });

  it('refuses (403) a correctly signed bounce with a 2015 Timestamp and changes nothing; SNS_MAX_AGE_S=0 lifts the bound', async () => {
    h = await createHarness(dialect, identity);
    const list = await seedList(h.store.db, 'default');
    await seedSubscriber(h.store.db, 'old@example.com', [list]);
    const fresh = signedNotification(bounceMessage('old@example.com'), identity, { topicArn: TEST_TOPIC });
    const old = signSnsEnvelope({ ...fresh, Timestamp: '2015-06-01T12:00:00.000Z' }, identity, '2');
    expect((await h.post(old)).status).toBe(403);
    expect(h.logs.some((l) => l.reason === 'stale')).toBe(true);
    expect(h.certificateSource.getCertificate).not.toHaveBeenCalled();
    expect(await h.store.db.selectFrom('events').selectAll().execute()).toEqual([]);
    expect((await subscriberByEmail(h.store.db, 'old@example.com')).status).toBe('active');
    // SNS_MAX_AGE_S bounds it: the same message inside the bound is applied.
    await h.close();
    h = await createHarness(dialect, identity, { SNS_MAX_AGE_S: '0' });
    const list2 = await seedList(h.store.db, 'default');
    await seedSubscriber(h.store.db, 'old@example.com', [list2]);
    expect((await h.post(old)).status).toBe(200);
    expect((await subscriberByEmail(h.store.db, 'old@example.com')).status).toBe('bounced');
  });

  it('accepts application/json bodies too', async () => {
    h = await createHarness(dialect, identity);
    const list = await seedList(h.store.db, 'default');
    await seedSubscriber(h.store.db, 'j@example.com', [list]);
    const env = signedNotification(bounceMessage('j@example.com'), identity, { topicArn: TEST_TOPIC });
    expect((await h.post(env, 'application/json')).status).toBe(200);
    expect((await subscriberByEmail(h.store.db, 'j@example.com')).status).toBe('bounced');
  });

  it('bounces by address when the message id is unknown; OnAccountSuppressionList suppresses with its reason', async () => {
    h = await createHarness(dialect, identity);
    const db = h.store.db;
    const list = await seedList(db, 'default');
    await seedSubscriber(db, 'old@example.com', [list]);
    await seedSubscriber(db, 'acct@example.com', [list]);
    expect((await h.post(signedNotification(bounceMessage('Old@Example.com'), identity, { topicArn: TEST_TOPIC }))).status).toBe(200);
    expect((await subscriberByEmail(db, 'old@example.com')).status).toBe('bounced');
    const ev = await db.selectFrom('events').selectAll().where('email', '=', 'old@example.com').executeTakeFirstOrThrow();
    expect(ev.campaign_id).toBeNull();
    await h.post(signedNotification(bounceMessage('acct@example.com', { subType: 'OnAccountSuppressionList' }), identity, { topicArn: TEST_TOPIC }));
    expect((await suppression(db, 'acct@example.com'))?.reason).toBe('ses-suppression-list');
    expect((await subscriberByEmail(db, 'acct@example.com')).status).toBe('bounced');
  });

  it('counts transient bounces and bounces the address at the configured limit within the window', async () => {
    h = await createHarness(dialect, identity, { TRANSIENT_BOUNCE_LIMIT: '3', TRANSIENT_BOUNCE_WINDOW_DAYS: '7' });
    const db = h.store.db;
    const list = await seedList(db, 'default');
    await seedSubscriber(db, 'soft@example.com', [list]);
    const day = 24 * 3600 * 1000;
    const post = (at: number) =>
      h.post(signedNotification(bounceMessage('soft@example.com', { type: 'Transient', subType: 'MailboxFull', at: new Date(at).toISOString() }), identity, { topicArn: TEST_TOPIC }));
    const now = Date.now();
    await post(now - 20 * day); // outside the window of the later ones
    await post(now - 2 * day);
    expect((await subscriberByEmail(db, 'soft@example.com')).status).toBe('active');
    await post(now - 1 * day);
    expect((await subscriberByEmail(db, 'soft@example.com')).status).toBe('active');
    expect(await suppression(db, 'soft@example.com')).toBeUndefined();
    await post(now);
    expect((await subscriberByEmail(db, 'soft@example.com')).status).toBe('bounced');
    expect((await suppression(db, 'soft@example.com'))?.reason).toBe('bounced');
  });

  it('Send event reconciles a row left sending by a dead worker, found by its tags', async () => {
    h = await createHarness(dialect, identity);
    const db = h.store.db;
    const list = await seedList(db, 'default');
    const s = await seedSubscriber(db, 'r@example.com', [list]);
    const c = await seedCampaign(db, list);
    await seedDelivery(db, { campaignId: c, subscriberId: s, email: 'r@example.com', status: 'sending' });
    const send = { eventType: 'Send', mail: { timestamp: '2026-01-01T00:00:00.000Z', messageId: 'ses-abc', destination: ['r@example.com'], tags: { campaign: [String(c)], subscriber: [String(s)] } }, send: {} };
    expect((await h.post(signedNotification(send, identity, { topicArn: TEST_TOPIC }))).status).toBe(200);
    const row = await delivery(db, c, s);
    expect(row).toMatchObject({ status: 'sent', ses_message_id: 'ses-abc', confirmed_at: Date.parse('2026-01-01T00:00:00.000Z') });
    // A later Delivery found by the learned message id moves it on.
    const deliveryMsg = { eventType: 'Delivery', mail: { messageId: 'ses-abc', destination: ['r@example.com'], tags: {} }, delivery: { timestamp: '2026-01-01T00:00:01.000Z', recipients: ['r@example.com'] } };
    await h.post(signedNotification(deliveryMsg, identity, { topicArn: TEST_TOPIC }));
    expect((await delivery(db, c, s)).status).toBe('delivered');
  });

  it('the reputation breaker pauses a sending campaign after posted complaints pass the threshold, and says why', async () => {
    h = await createHarness(dialect, identity, { COMPLAINT_RATE_LIMIT: '0.01', BREAKER_MIN_DELIVERIES: '100' });
    const db = h.store.db;
    const list = await seedList(db, 'default');
    const c = await seedCampaign(db, list, 'sending');
    const other = await seedCampaign(db, list, 'sending');
    const emails = Array.from({ length: 200 }, (_, i) => `p${i}@example.com`);
    await seedDeliveries(db, c, emails.length, { emailPrefix: 'p', sesPrefix: 'msg-', status: 'delivered' });
    await h.post(signedNotification(complaintMessage(emails[0]!, 'msg-0'), identity, { topicArn: TEST_TOPIC }));
    expect((await db.selectFrom('campaigns').select('status').where('id', '=', c).executeTakeFirstOrThrow()).status).toBe('sending');
    const res = await h.post(signedNotification(complaintMessage(emails[1]!, 'msg-1'), identity, { topicArn: TEST_TOPIC }));
    expect(res.status).toBe(200);
    const paused = await db.selectFrom('campaigns').select(['status', 'paused_reason', 'paused_note']).where('id', '=', c).executeTakeFirstOrThrow();
    expect(paused.status).toBe('paused');
    expect(paused.paused_reason).toBe('breaker');
    expect(paused.paused_note).toMatch(/complaint rate 1\.00% \(2\/200\)/);
    expect((await db.selectFrom('campaigns').select('status').where('id', '=', other).executeTakeFirstOrThrow()).status).toBe('sending');
    expect(h.logs.some((l) => l.msg === 'reputation breaker paused a campaign')).toBe(true);
    // Paused through the orchestrator, once, for the second complaint only.
    expect(h.pauser.calls).toEqual([{ campaignId: c, reason: { code: 'breaker', note: paused.paused_note }, paused: true }]);
    expect((await subscriberByEmail(db, emails[0]!)).status).toBe('complained');
    expect((await suppression(db, emails[0]!))?.reason).toBe('complained');
    // A late bounce for the same message never moves the complaint backwards.
    await h.post(signedNotification(bounceMessage(emails[0]!, { messageId: 'msg-0' }), identity, { topicArn: TEST_TOPIC }));
    expect((await subscriberByEmail(db, emails[0]!)).status).toBe('complained');
    expect((await db.selectFrom('deliveries').select('status').where('ses_message_id', '=', 'msg-0').executeTakeFirstOrThrow()).status).toBe('complained');
  });

  it('works through a real listening server', async () => {
    h = await createHarness(dialect, identity);
    const list = await seedList(h.store.db, 'default');
    await seedSubscriber(h.store.db, 'net@example.com', [list]);
    const address = await h.app.listen({ port: 0, host: '127.0.0.1' });
    const env = signedNotification(bounceMessage('net@example.com'), identity, { topicArn: TEST_TOPIC });
    const bad = await request(`${address}/webhooks/ses`, { method: 'POST', headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: JSON.stringify({ ...env, Message: changeAt(env.Message, 3) }) });
    expect(bad.statusCode).toBe(403);
    await bad.body.dump();
    expect((await subscriberByEmail(h.store.db, 'net@example.com')).status).toBe('active');
    const ok = await request(`${address}/webhooks/ses`, { method: 'POST', headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: JSON.stringify(env) });
    expect(ok.statusCode).toBe(200);
    expect(await ok.body.json()).toEqual({ ok: true, applied: true });
    expect((await subscriberByEmail(h.store.db, 'net@example.com')).status).toBe('bounced');
  });
});
