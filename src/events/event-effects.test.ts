import { describe, expect, it } from 'vitest';
import {
  decideEffects,
  isDeliveredOnly,
  LEDGER_MOVABLE_FROM,
  softBouncesSince,
  SUBSCRIBER_REPLACEABLE,
  type Effect,
  type EventFacts,
} from './event-effects.js';
import type { SesEvent, SesEventType } from './ses-notification.js';

const config = { TRANSIENT_BOUNCE_LIMIT: 3, TRANSIENT_BOUNCE_WINDOW_DAYS: 7 };
const DAY = 24 * 3600 * 1000;

function event(type: SesEventType, over: Partial<SesEvent> = {}): SesEvent {
  return {
    type,
    subtype: null,
    bounceSubType: null,
    sesMessageId: 'ses-1',
    email: 'a@example.com',
    campaignId: 7,
    subscriberId: 9,
    detail: null,
    occurredAt: 100 * DAY,
    ...over,
  };
}

const found: EventFacts = { ledgerFound: true, campaignId: 7, recentSoftBounces: 0 };
const missing: EventFacts = { ledgerFound: false, campaignId: null, recentSoftBounces: 0 };

describe('decideEffects', () => {
  const cases: Array<[string, SesEvent, EventFacts, Effect[]]> = [
    ['delivery: the row is delivered', event('delivery'), found, [{ kind: 'moveLedger', to: 'delivered' }]],
    ['delivery without a ledger row: nothing', event('delivery'), missing, []],
    ['send: confirm the row', event('send'), found, [{ kind: 'confirmSend' }]],
    ['open: first open, and the engagement mark', event('open'), found, [{ kind: 'markOpened' }, { kind: 'markEngagement', campaignId: 7 }]],
    ['click: first click, and the engagement mark', event('click', { detail: 'https://x.example/' }), found, [{ kind: 'markClicked' }, { kind: 'markEngagement', campaignId: 7 }]],
    ['open without a ledger row: nothing', event('open'), missing, []],
    ['open without a ledger row, campaign from the tags: the engagement mark', event('open'), { ...missing, campaignId: 7 }, [{ kind: 'markEngagement', campaignId: 7 }]],
    ['reject: the row failed, with the reason', event('reject', { detail: 'Bad content' }), found, [{ kind: 'failLedger', error: 'reject: Bad content' }]],
    ['rendering failure: the row failed', event('rendering_failure', { detail: 'no var' }), found, [{ kind: 'failLedger', error: 'rendering_failure: no var' }]],
    [
      'delivery delay: counted for the campaign, the provider and the SMTP status',
      event('delivery_delay', { email: 'x@hotmail.co.uk', smtpStatus: '4.7.0' }),
      found,
      [{ kind: 'countProvider', campaignId: 7, provider: 'microsoft', counter: 'delay', smtpStatus: '4.7.0' }],
    ],
    ['delivery delay without a campaign: stored only', event('delivery_delay'), missing, []],
    ['other: stored only', event('other'), found, []],
    [
      'complaint: row, subscriber, suppression, breaker',
      event('complaint', { subtype: 'abuse' }),
      found,
      [
        { kind: 'moveLedger', to: 'complained' },
        { kind: 'setSubscriberStatus', status: 'complained', reason: 'complaint (abuse)' },
        { kind: 'suppress', reason: 'complained', detail: 'complaint (abuse)' },
        { kind: 'countProvider', campaignId: 7, provider: 'other', counter: 'complaint', smtpStatus: '' },
        { kind: 'checkBreaker', campaignId: 7 },
      ],
    ],
    [
      'permanent bounce without a ledger row or campaign: the address only',
      event('bounce', { subtype: 'Permanent', bounceSubType: 'General', sesMessageId: null, campaignId: null }),
      missing,
      [
        { kind: 'setSubscriberStatus', status: 'bounced', reason: 'permanent bounce (General)' },
        { kind: 'suppress', reason: 'bounced', detail: 'permanent bounce (General)' },
      ],
    ],
    [
      'bounce on the account suppression list: suppressed with that reason',
      event('bounce', { subtype: 'Permanent', bounceSubType: 'OnAccountSuppressionList' }),
      found,
      [
        { kind: 'moveLedger', to: 'bounced' },
        { kind: 'setSubscriberStatus', status: 'bounced', reason: 'permanent bounce (OnAccountSuppressionList)' },
        { kind: 'suppress', reason: 'ses-suppression-list', detail: 'permanent bounce (OnAccountSuppressionList)' },
        { kind: 'countProvider', campaignId: 7, provider: 'other', counter: 'bounce', smtpStatus: '' },
        { kind: 'checkBreaker', campaignId: 7 },
      ],
    ],
    [
      'soft bounce under the limit: only its provider counter',
      event('bounce', { subtype: 'Transient', email: 'y@gmail.com', smtpStatus: '4.2.2' }),
      { ...found, recentSoftBounces: 2 },
      [{ kind: 'countProvider', campaignId: 7, provider: 'gmail', counter: 'soft_bounce', smtpStatus: '4.2.2' }],
    ],
    [
      'soft bounce at the limit: bounced like a hard one',
      event('bounce', { subtype: 'Transient' }),
      { ...found, recentSoftBounces: 3 },
      [
        { kind: 'moveLedger', to: 'bounced' },
        { kind: 'setSubscriberStatus', status: 'bounced', reason: '3 soft bounces within 7 days' },
        { kind: 'suppress', reason: 'bounced', detail: '3 soft bounces within 7 days' },
        { kind: 'countProvider', campaignId: 7, provider: 'other', counter: 'bounce', smtpStatus: '' },
        { kind: 'checkBreaker', campaignId: 7 },
      ],
    ],
    [
      'complaint without an address: the row and the breaker',
      event('complaint', { email: null }),
      found,
      [
        { kind: 'moveLedger', to: 'complained' },
        { kind: 'countProvider', campaignId: 7, provider: 'other', counter: 'complaint', smtpStatus: '' },
        { kind: 'checkBreaker', campaignId: 7 },
      ],
    ],
    [
      'subscription, unsubscribe from all: the subscriber is unsubscribed',
      event('subscription', { unsubscribeAll: true }),
      missing,
      [{ kind: 'setSubscriberStatus', status: 'unsubscribed', reason: 'unsubscribed through SES subscription management' }],
    ],
    ['subscription, topic preferences only: nothing', event('subscription', { unsubscribeAll: false }), missing, []],
  ];

  it.each(cases)('%s', (_name, e, facts, expected) => {
    expect(decideEffects(e, facts, config)).toEqual(expected);
  });

  it('only a Delivery with its row is a lone move to delivered (what the store may fuse with its insert)', () => {
    const fused = (['delivery', 'send', 'open', 'click', 'reject', 'complaint'] as const).filter((t) => isDeliveredOnly(decideEffects(event(t), found, config)));
    expect(fused).toEqual(['delivery']);
  });
});

describe('softBouncesSince', () => {
  it('asks for the count only for a soft bounce with an address, over the configured window', () => {
    expect(softBouncesSince(event('bounce', { subtype: 'Transient' }), config)).toBe(93 * DAY);
    expect(softBouncesSince(event('bounce', { subtype: 'Undetermined' }), config)).toBe(93 * DAY);
    expect(softBouncesSince(event('bounce', { subtype: 'Permanent' }), config)).toBeNull();
    expect(softBouncesSince(event('bounce', { subtype: 'Transient', email: null }), config)).toBeNull();
    expect(softBouncesSince(event('complaint'), config)).toBeNull();
    expect(softBouncesSince(event('delivery'), config)).toBeNull();
  });
});

describe('precedence: never backwards', () => {
  it('ledger: complained > bounced > delivered > sent; an outcome replaces only lower ones', () => {
    const rank = ['sending', 'sent', 'delivered', 'bounced', 'complained'] as const;
    for (const to of ['delivered', 'bounced', 'complained'] as const) {
      for (const from of rank) {
        expect(LEDGER_MOVABLE_FROM[to].includes(from), `${from} → ${to}`).toBe(rank.indexOf(from) < rank.indexOf(to));
      }
    }
    // A refusal fails only a row without an outcome; rows never sent stay for the send pipeline.
    expect([...LEDGER_MOVABLE_FROM.failed].sort()).toEqual(['sending', 'sent']);
    for (const to of ['delivered', 'bounced', 'complained', 'failed'] as const) {
      for (const untouched of ['queued', 'skipped', 'cancelled', 'failed'] as const) expect(LEDGER_MOVABLE_FROM[to]).not.toContain(untouched);
    }
  });

  it('subscriber: complained > bounced > unsubscribed > sunset > active; a status replaces only lower ones', () => {
    const rank = ['active', 'sunset', 'unsubscribed', 'bounced', 'complained'] as const;
    for (const to of ['unsubscribed', 'bounced', 'complained'] as const) {
      for (const from of rank) {
        expect(SUBSCRIBER_REPLACEABLE[to].includes(from), `${from} → ${to}`).toBe(rank.indexOf(from) < rank.indexOf(to));
      }
    }
  });
});
