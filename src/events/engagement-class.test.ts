/**
 * The classification table: real-shaped SES Open/Click records (the AWS guide's examples in
 * ../shared/fixtures/ses/ and variants of them with what Apple MPP, link scanners, the trap
 * link and SES's own automated flag look like), parsed by the real parser and classified by
 * the rules the event writer uses.
 */
import { describe, expect, it } from 'vitest';
import { docExamples } from '../../test/events/fixtures.js';
import { classifyEvent, engagementConfig, type EngagementFacts } from './event-effects.js';
import { trapLinkFor } from './engagement-class.js';
import { parseSesNotification } from './ses-notification.js';

const PUBLIC_URL = 'https://news.example.org';
const config = engagementConfig({ PUBLIC_URL, SCANNER_CLICK_WINDOW_S: 10 });
const docOpen = docExamples.find((e) => e.kind === 'ses-event/Open')!.payload;
const docClick = docExamples.find((e) => e.kind === 'ses-event/Click')!.payload;
const SENT = '2026-11-20T09:00:00.000Z';
const at = (secondsAfterSend: number) => new Date(Date.parse(SENT) + secondsAfterSend * 1000).toISOString();

const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const MAC_MAIL = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)';
const GMAIL_PROXY = 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)';
const YAHOO_PROXY = 'YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html';

type Json = Record<string, unknown>;
function open(fields: Json, mailTimestamp = SENT): string {
  const mail = { ...(docOpen.mail as Json), timestamp: mailTimestamp };
  return JSON.stringify({ ...docOpen, mail, open: { ...(docOpen.open as Json), ...fields } });
}
function click(fields: Json, mailTimestamp = SENT): string {
  const mail = { ...(docClick.mail as Json), timestamp: mailTimestamp };
  return JSON.stringify({ ...docClick, mail, click: { ...(docClick.click as Json), ...fields } });
}

const none: EngagementFacts = { deliveredAt: null, otherClicks: [] };
const delivered = (secondsAfterSend: number): EngagementFacts => ({ deliveredAt: Date.parse(SENT) + secondsAfterSend * 1000, otherClicks: [] });
const withClicks = (...clicks: Array<[string, number]>): EngagementFacts => ({
  deliveredAt: Date.parse(SENT) + 2000,
  otherClicks: clicks.map(([link, s]) => ({ link, at: Date.parse(SENT) + s * 1000 })),
});

const ARTICLE = 'https://blog.example.org/posts/release-1.31';
const OTHER = 'https://github.com/example/project/pull/1';
const THIRD = 'https://docs.example.org/setup';

const cases: Array<[string, string, EngagementFacts, 'human' | 'machine' | 'unknown', string]> = [
  // The AWS guide's own examples, as published.
  ['AWS example Open (iPhone Mail)', JSON.stringify(docOpen), none, 'human', 'mail-client'],
  ['AWS example Click (Chrome, 80 s after send)', JSON.stringify(docClick), none, 'human', 'mail-client'],
  // Human.
  ['open from Mac Mail on a home address', open({ userAgent: MAC_MAIL, ipAddress: '203.0.113.7', timestamp: at(3600) }), none, 'human', 'mail-client'],
  ['open through the Gmail image proxy (fetched when the reader opens)', open({ userAgent: GMAIL_PROXY, ipAddress: '66.249.84.1', timestamp: at(900) }), none, 'human', 'mail-client'],
  ['open through the Yahoo mail proxy', open({ userAgent: YAHOO_PROXY, ipAddress: '98.136.1.1', timestamp: at(900) }), none, 'human', 'mail-client'],
  ['click from Chrome an hour later', click({ userAgent: CHROME, link: ARTICLE, timestamp: at(3600) }), delivered(2), 'human', 'mail-client'],
  ['click from an iPhone, a second link 40 s after the first', click({ userAgent: IPHONE, link: OTHER, timestamp: at(640) }), withClicks([ARTICLE, 600]), 'human', 'mail-client'],
  ['two links within a second (a double tap) are still a person', click({ userAgent: CHROME, link: OTHER, timestamp: at(600.5) }), withClicks([ARTICLE, 600]), 'human', 'mail-client'],
  // Apple Mail Privacy Protection.
  ['MPP open: bare Mozilla/5.0 from Apple 17.0.0.0/8', open({ userAgent: 'Mozilla/5.0', ipAddress: '17.58.63.1', timestamp: at(40) }), none, 'machine', 'apple-mpp'],
  ['MPP open: bare Mozilla/5.0 from a relay address', open({ userAgent: 'Mozilla/5.0', ipAddress: '104.28.40.1', timestamp: at(400) }), none, 'machine', 'apple-mpp'],
  ['MPP open: Apple IPv6 range with a full user agent', open({ userAgent: MAC_MAIL, ipAddress: '2620:149:a:b::1', timestamp: at(400) }), none, 'machine', 'apple-mpp'],
  // Link scanners.
  ['click 3 s after delivery (gateway scanner with a browser agent)', click({ userAgent: CHROME, link: ARTICLE, timestamp: at(5) }), delivered(2), 'machine', 'before-read'],
  ['click 4 s after SES accepted it, Delivery not known yet', click({ userAgent: CHROME, link: ARTICLE, timestamp: at(4) }), none, 'machine', 'before-read'],
  ['third distinct link within one second', click({ userAgent: CHROME, link: THIRD, timestamp: at(600.4) }), withClicks([ARTICLE, 600], [OTHER, 600.2]), 'machine', 'link-burst'],
  ['Barracuda gateway agent', click({ userAgent: 'Barracuda Sentinel (EE)', link: ARTICLE, timestamp: at(3600) }), delivered(2), 'machine', 'scanner-agent'],
  ['python-requests', click({ userAgent: 'python-requests/2.31.0', link: ARTICLE, timestamp: at(7200) }), delivered(2), 'machine', 'scanner-agent'],
  ['Microsoft Office link check', click({ userAgent: 'Microsoft Office Existence Discovery', link: ARTICLE, timestamp: at(7200) }), delivered(2), 'machine', 'scanner-agent'],
  ['a crawler fetching the pixel', open({ userAgent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', timestamp: at(7200) }), none, 'machine', 'scanner-agent'],
  ['click without a user agent', click({ userAgent: undefined, link: ARTICLE, timestamp: at(7200) }), delivered(2), 'machine', 'no-agent'],
  // The trap link.
  ['click on the hidden footer link', click({ userAgent: CHROME, link: trapLinkFor(PUBLIC_URL), timestamp: at(7200) }), delivered(2), 'machine', 'trap-link'],
  ['click on the trap link with a query string', click({ userAgent: IPHONE, link: `${trapLinkFor(PUBLIC_URL)}?utm_source=x`, timestamp: at(7200) }), delivered(2), 'machine', 'trap-link'],
  ['a real link clicked within a second of the trap', click({ userAgent: CHROME, link: ARTICLE, timestamp: at(7200.3) }), withClicks([trapLinkFor(PUBLIC_URL), 7200]), 'machine', 'link-burst'],
  // SES's own marking.
  ['open SES marked automated', open({ userAgent: IPHONE, automated: true, timestamp: at(3600) }), none, 'machine', 'ses-automated'],
  ['click SES marked automated', click({ userAgent: CHROME, isAutomated: true, link: ARTICLE, timestamp: at(3600) }), delivered(2), 'machine', 'ses-automated'],
  // Cannot tell.
  ['open without a user agent', open({ userAgent: undefined, ipAddress: '203.0.113.9', timestamp: at(3600) }), none, 'unknown', 'unrecognised'],
  ['open with an unrecognised agent', open({ userAgent: 'SomeReader/1.0', ipAddress: '203.0.113.9', timestamp: at(3600) }), none, 'unknown', 'unrecognised'],
];

describe('human vs machine engagement', () => {
  it('the table has at least 20 real-shaped SES events of every kind', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    for (const cls of ['human', 'machine', 'unknown']) expect(cases.some((c) => c[3] === cls)).toBe(true);
  });

  it.each(cases)('%s', (_name, message, facts, cls, reason) => {
    const [event] = parseSesNotification(message);
    expect(event!.type === 'open' || event!.type === 'click').toBe(true);
    const decision = classifyEvent(event!, facts, config);
    expect({ class: decision.class, reason: decision.reason }).toEqual({ class: cls, reason });
  });

  it('the trap link is the one under PUBLIC_URL only', () => {
    const [event] = parseSesNotification(click({ userAgent: CHROME, link: 'https://elsewhere.example/r/footer', timestamp: at(7200) }));
    expect(classifyEvent(event!, delivered(2), config).class).toBe('human');
  });
});
