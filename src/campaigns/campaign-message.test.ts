import { describe, expect, it } from 'vitest';
import { archiveUrlFor } from '../archive/archive-url.js';
import { loadConfig } from '../config.js';
import { InputError } from '../errors.js';
import { parseIssueFile } from '../issue/parse-issue.js';
import { compileIssue } from '../render/compile-issue.js';
import { verifyUnsubscribeToken } from '../unsubscribe/token.js';
import { EXAMPLE_ISSUE, EXAMPLE_SITE_URL } from '../../test/support/example-issue.js';
import { splitMessage } from '../../test/support/message-parity.js';
import { simpleParser } from 'mailparser';
import { renderForRecipient } from '../render/preview.js';
import { campaignMessageOptions, messageSourceOf, prepareCampaignMessages, readerCopy, recipientFor, senderSettings, sendTags, testTags } from './campaign-message.js';

const SECRET = 'unit-secret-unit-secret-unit-secret';
const config = loadConfig({ FROM_ADDRESS: 'Tidewater <news@tidewater.example.org>', UNSUBSCRIBE_SECRET: SECRET, PUBLIC_URL: 'https://news.example.org', LIST_NAME: 'Tidewater Weekly' });

describe('campaign messages', async () => {
  const compiled = await compileIssue(parseIssueFile(EXAMPLE_ISSUE, { siteUrl: EXAMPLE_SITE_URL }), { siteUrl: EXAMPLE_SITE_URL });
  const campaign = { id: 12, list_id: 3, issue_slug: compiled.meta.slug, compiled_json: JSON.stringify(compiled) };
  const messages = prepareCampaignMessages(messageSourceOf(campaign), senderSettings(config));

  it('a subscriber gets List-Id, archive link, campaign id and an unsubscribe link signed for them and the list', async () => {
    const m = await splitMessage(messages.build({ id: 77, email: 'ana@example.com', name: null }).raw, 'ana@example.com');
    expect(m.shared['list-id']).toBe('Tidewater Weekly <list-3.news.example.org>');
    expect(m.shared['x-newsletter-campaign']).toBe('12');
    expect(m.html).toContain(archiveUrlFor(config.PUBLIC_URL, compiled.meta.slug));
    expect(m.own['x-newsletter-test']).toBeUndefined();
    expect(verifyUnsubscribeToken(m.unsubscribeUrl.replace('https://news.example.org/u/', ''), [SECRET])).toEqual({ subscriberId: 77, listId: 3 });
    expect(sendTags(12, 77)).toEqual({ campaign: '12', subscriber: '77' });
  });

  it('a test copy is the same message but for recipient, ids, date, token and the test marker', async () => {
    const sub = await splitMessage(messages.build({ id: 77, email: 'ana@example.com', name: null }).raw, 'ana@example.com');
    const test = await splitMessage(messages.buildTest('editor@example.net').raw, 'editor@example.net');
    expect(test.shared).toEqual(sub.shared);
    expect(test.text).toBe(sub.text);
    expect(test.html).toBe(sub.html);
    expect(test.own['x-newsletter-test']).toBe('1');
    expect(test.own.to).toContain('editor@example.net');
    expect(test.own['message-id']).not.toBe(sub.own['message-id']);
    // Signed for no subscriber: the link cannot unsubscribe anyone.
    expect(verifyUnsubscribeToken(test.unsubscribeUrl.replace('https://news.example.org/u/', ''), [SECRET])).toEqual({ subscriberId: 0, listId: 3 });
    expect(testTags(12)).toEqual({ test: 'c12' });
  });

  it('refuses without FROM_ADDRESS or UNSUBSCRIBE_SECRET, or without a compiled issue', () => {
    expect(() => senderSettings(loadConfig({ UNSUBSCRIBE_SECRET: SECRET }), 'to')).toThrow(new InputError('FROM_ADDRESS is not set', 'to'));
    expect(() => senderSettings(loadConfig({ FROM_ADDRESS: 'a@example.com' }))).toThrow(/UNSUBSCRIBE_SECRET is not set/);
    expect(() => messageSourceOf({ ...campaign, compiled_json: null })).toThrow(/campaign 12 has no compiled issue/);
  });

  it('a reader copy (the workspace preview) is the built message: its parts as a mail client decodes them, the templates rendered for that reader', async () => {
    const member = { id: 41, email: 'zoe@example.org', name: 'Zoë "Z" <z>' };
    const recipient = recipientFor(senderSettings(config), 3, member);
    const source = messageSourceOf(campaign);
    const copy = readerCopy(source, senderSettings(config), recipient);
    const built = messages.build(member);
    const parsed = await simpleParser(built.raw);
    expect(copy.html).toBe(parsed.html);
    expect(copy.text).toBe(parsed.text);
    expect(copy.subject).toBe(parsed.subject);
    const rendered = renderForRecipient(compiled, recipient, campaignMessageOptions(source, senderSettings(config)).archiveUrl);
    expect(copy.html).toBe(rendered.html);
    expect(copy.text).toBe(rendered.text);
    expect(copy.htmlBytes).toBe(Buffer.byteLength(rendered.html));
    expect(copy.messageBytes).toBeGreaterThan(copy.htmlBytes);
  });
});
