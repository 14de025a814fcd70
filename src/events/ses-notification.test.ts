import { describe, expect, it } from 'vitest';
import { docExamples } from '../../test/events/fixtures.js';
import { decideOutcome } from './bounce-policy.js';
import { decideBreaker } from './reputation-breaker.js';
import { parseSesNotification } from './ses-notification.js';

const example = (kind: string) => JSON.stringify(docExamples.find((e) => e.kind === kind)!.payload);

describe('parseSesNotification', () => {
  it('turns each documentation example into the right events, one per affected recipient', () => {
    const summary = (kind: string) => parseSesNotification(example(kind), 0).map((e) => [e.type, e.subtype, e.email]);
    expect(summary('ses-notification/bounce-with-dsn')).toEqual([['bounce', 'Permanent', 'jane@example.com']]);
    expect(summary('ses-notification/bounce-without-dsn')).toEqual([
      ['bounce', 'Permanent', 'jane@example.com'],
      ['bounce', 'Permanent', 'richard@example.com'],
    ]);
    expect(summary('ses-notification/complaint-with-feedback')).toEqual([['complaint', 'abuse', 'richard@example.com']]);
    expect(summary('ses-notification/complaint-without-feedback')).toEqual([['complaint', null, 'richard@example.com']]);
    expect(summary('ses-notification/delivery')).toEqual([['delivery', null, 'jane@example.com']]);
    expect(summary('ses-event/Bounce')).toEqual([['bounce', 'Permanent', 'recipient@example.com']]);
    expect(summary('ses-event/Complaint')).toEqual([['complaint', 'abuse', 'recipient@example.com']]);
    expect(summary('ses-event/Delivery')).toEqual([['delivery', null, 'recipient@example.com']]);
    expect(summary('ses-event/Send')).toEqual([['send', null, 'recipient@example.com']]);
    expect(summary('ses-event/Reject')).toEqual([['reject', null, 'sender@example.com']]);
    expect(summary('ses-event/Open')).toEqual([['open', null, 'recipient@example.com']]);
    expect(summary('ses-event/Click')).toEqual([['click', null, 'recipient@example.com']]);
    expect(summary('ses-event/Rendering Failure')).toEqual([['rendering_failure', null, 'recipient@example.com']]);
    expect(summary('ses-event/DeliveryDelay')).toEqual([['delivery_delay', 'TransientCommunicationFailure', 'recipient@example.com']]);
    expect(summary('ses-event/Subscription')).toEqual([['subscription', 'UnsubscribeHeader', 'recipient@example.com']]);
  });

  it('keeps message id, timestamps, link and diagnostics', () => {
    const [click] = parseSesNotification(example('ses-event/Click'), 0);
    expect(click!.detail).toBe('http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html');
    expect(click!.sesMessageId).toBe('EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000');
    expect(click!.occurredAt).toBe(Date.parse('2017-08-09T23:51:25.570Z'));
    const [bounce] = parseSesNotification(example('ses-notification/bounce-with-dsn'), 0);
    expect(bounce!.detail).toContain('550 5.1.1');
    expect(bounce!.bounceSubType).toBe('General');
    const [sub] = parseSesNotification(example('ses-event/Subscription'), 0);
    expect(sub!.unsubscribeAll).toBe(true);
  });

  it('reads campaign and subscriber from mail.tags, else from the X-SES-MESSAGE-TAGS header', () => {
    const withTags = { eventType: 'Delivery', mail: { messageId: 'm', destination: ['A@X.org'], tags: { campaign: ['12'], subscriber: ['345'] } }, delivery: {} };
    const [e] = parseSesNotification(JSON.stringify(withTags), 0);
    expect([e!.campaignId, e!.subscriberId, e!.email]).toEqual([12, 345, 'a@x.org']);
    const withHeader = { notificationType: 'Delivery', mail: { messageId: 'm', destination: ['a@x.org'], headers: [{ name: 'X-SES-MESSAGE-TAGS', value: 'campaign=7, subscriber=8' }] }, delivery: {} };
    const [h] = parseSesNotification(JSON.stringify(withHeader), 0);
    expect([h!.campaignId, h!.subscriberId]).toEqual([7, 8]);
    const junk = { eventType: 'Delivery', mail: { tags: { campaign: ['x1'], subscriber: ['-3'] } } };
    const [j] = parseSesNotification(JSON.stringify(junk), 0);
    expect([j!.campaignId, j!.subscriberId]).toEqual([null, null]);
  });

  it('turns non-SES messages into a single `other` event', () => {
    for (const m of ['Hello world!', '{}', '[1]', '{"eventType":"Nope"}']) {
      expect(parseSesNotification(m, 5)).toEqual([expect.objectContaining({ type: 'other', occurredAt: 5 })]);
    }
  });
});

describe('bounce policy', () => {
  const config = { TRANSIENT_BOUNCE_LIMIT: 3, TRANSIENT_BOUNCE_WINDOW_DAYS: 30 };
  const bounce = (subtype: string, bounceSubType: string | null = 'General') => ({ type: 'bounce' as const, subtype, bounceSubType, detail: null });

  it('permanent → bounced and suppressed; OnAccountSuppressionList → ses-suppression-list', () => {
    expect(decideOutcome(bounce('Permanent'), 0, config)).toMatchObject({ subscriberStatus: 'bounced', suppress: 'bounced', ledgerStatus: 'bounced' });
    expect(decideOutcome(bounce('Permanent', 'Suppressed'), 0, config)).toMatchObject({ subscriberStatus: 'bounced', suppress: 'bounced' });
    expect(decideOutcome(bounce('Permanent', 'OnAccountSuppressionList'), 0, config)).toMatchObject({ suppress: 'ses-suppression-list' });
  });

  it('transient and undetermined are only counted until the limit', () => {
    expect(decideOutcome(bounce('Transient'), 2, config)).toMatchObject({ subscriberStatus: null, suppress: null, ledgerStatus: null });
    expect(decideOutcome(bounce('Undetermined'), 2, config)).toMatchObject({ subscriberStatus: null });
    expect(decideOutcome(bounce('Transient'), 3, config)).toMatchObject({ subscriberStatus: 'bounced', suppress: 'bounced', ledgerStatus: 'bounced' });
  });

  it('complaint → complained and suppressed; other events change nothing', () => {
    expect(decideOutcome({ type: 'complaint', subtype: 'abuse', bounceSubType: null, detail: null }, 0, config)).toMatchObject({
      subscriberStatus: 'complained',
      suppress: 'complained',
      ledgerStatus: 'complained',
    });
    expect(decideOutcome({ type: 'delivery', subtype: null, bounceSubType: null, detail: null }, 9, config).subscriberStatus).toBeNull();
  });
});

describe('reputation breaker', () => {
  const config = { BOUNCE_RATE_LIMIT: 0.05, COMPLAINT_RATE_LIMIT: 0.001, BREAKER_MIN_DELIVERIES: 100 };
  it('waits for the minimum number of sends', () => {
    expect(decideBreaker({ sent: 99, bounced: 50, complained: 50 }, config).trip).toBe(false);
  });
  it('trips at the complaint or bounce limit and says why', () => {
    expect(decideBreaker({ sent: 1000, bounced: 49, complained: 0 }, config).trip).toBe(false);
    const b = decideBreaker({ sent: 1000, bounced: 50, complained: 0 }, config);
    expect(b).toEqual({ trip: true, scope: 'campaign', reason: expect.stringContaining('bounce rate 5.00% (50/1000)') });
    expect(decideBreaker({ sent: 2000, bounced: 0, complained: 1 }, config).trip).toBe(false);
    const c = decideBreaker({ sent: 1000, bounced: 0, complained: 1 }, config);
    expect(c).toEqual({ trip: true, scope: 'campaign', reason: expect.stringContaining('complaint rate 0.10% (1/1000)') });
  });
});

describe('per-provider breaker', () => {
  const config = {
    BOUNCE_RATE_LIMIT: 0.05,
    COMPLAINT_RATE_LIMIT: 0.001,
    BREAKER_MIN_DELIVERIES: 100,
    BREAKER_PROVIDER_BOUNCE_RATE: 0.03,
    BREAKER_PROVIDER_COMPLAINT_RATE: 0.003,
    BREAKER_PROVIDER_MIN_SENT: 100,
  };
  it('trips on one provider at its limit with the provider and its commonest SMTP status in the reason; never on "other" or below the sample', () => {
    const counts = (microsoftBounced: number, microsoftSent = 100) => ({
      sent: 400 + microsoftSent,
      bounced: microsoftBounced,
      complained: 0,
      providers: {
        gmail: { sent: 400, bounced: 0, complained: 0 },
        microsoft: { sent: microsoftSent, bounced: microsoftBounced, complained: 0, topBounceStatus: '5.7.515' },
      },
    });
    expect(decideBreaker(counts(2), config).trip).toBe(false);
    expect(decideBreaker(counts(3), config)).toEqual({
      trip: true,
      scope: 'provider',
      provider: 'microsoft',
      reason: 'microsoft bounce rate 3.00% (3/100) reached the per-provider limit 3.00%; most frequent SMTP status 5.7.515',
    });
    // Too few messages at that provider to judge.
    expect(decideBreaker(counts(3, 99), config).trip).toBe(false);
    // `other` is many providers: left to the campaign-wide limit.
    expect(decideBreaker({ sent: 500, bounced: 20, complained: 0, providers: { other: { sent: 500, bounced: 20, complained: 0 } } }, config).trip).toBe(false);
    // Without the per-provider settings (older callers): no per-provider check.
    expect(decideBreaker(counts(10), { BOUNCE_RATE_LIMIT: 0.05, COMPLAINT_RATE_LIMIT: 0.001, BREAKER_MIN_DELIVERIES: 100 }).trip).toBe(false);
  });
});

describe('SMTP status and fetch facts from the documentation examples', () => {
  const example = (kind: string) => JSON.stringify(docExamples.find((e) => e.kind === kind)!.payload);
  it('a DeliveryDelay carries its delay type, diagnostic and enhanced status per recipient', () => {
    const [delay] = parseSesNotification(example('ses-event/DeliveryDelay'));
    expect(delay).toMatchObject({ type: 'delivery_delay', subtype: 'TransientCommunicationFailure', email: 'recipient@example.com', detail: 'smtp; 421 4.4.1 Unable to connect to remote host', smtpStatus: '4.4.1' });
  });
  it('a Bounce carries the enhanced status of each recipient', () => {
    const [bounce] = parseSesNotification(example('ses-event/Bounce'));
    expect(bounce).toMatchObject({ type: 'bounce', smtpStatus: '5.1.1' });
  });
  it('an Open and a Click carry user agent, address and the send time; no automated flag in the published schema', () => {
    const [open] = parseSesNotification(example('ses-event/Open'));
    expect(open).toMatchObject({ userAgent: expect.stringContaining('iPhone'), ipAddress: '192.0.2.1', sesAutomated: false, sentAt: Date.parse('2017-08-09T21:59:49.927Z') });
    const [click] = parseSesNotification(example('ses-event/Click'));
    expect(click).toMatchObject({ userAgent: expect.stringContaining('Chrome/60'), ipAddress: '192.0.2.1', sesAutomated: false, detail: 'http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html' });
  });
});
