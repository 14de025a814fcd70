import { simpleParser, type ParsedMail } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import Handlebars from 'handlebars';
import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { parseIssueFile } from '../issue/parse-issue.js';
import { EXAMPLE_ISSUE, EXAMPLE_SITE_URL } from '../../test/support/example-issue.js';
import { compileIssue } from './compile-issue.js';
import { prepareMessages } from './prepare-messages.js';
import { TEMPLATE_CONSTANTS } from './template-text.js';
import type { CompiledIssue, MessageOptions, Recipient } from './types.js';

const opts: MessageOptions = {
  from: 'Tidewater Weekly <news@tidewater.example.org>',
  campaignId: 7,
  listId: 'Tidewater Weekly <weekly.tidewater.example.org>',
  unsubscribeMailto: 'unsubscribe@tidewater.example.org',
  archiveUrl: 'https://tidewater.example.org/2026/11/22/',
};
const ana: Recipient = { subscriberId: 42, email: 'ana@example.com', name: 'Ana Ruiz', unsubscribeUrl: 'https://news.example.org/u/tok-42' };

function assertWellFormed(raw: Buffer): void {
  const s = raw.toString('latin1');
  expect(s).not.toMatch(/[^\r]\n/);
  for (const line of s.split('\r\n')) expect(Buffer.byteLength(line, 'latin1')).toBeLessThanOrEqual(998);
}

describe('prepareMessages', async () => {
  // Through JSON, as the send pipeline gets it from campaigns.compiled_json.
  const compiled: CompiledIssue = JSON.parse(
    JSON.stringify(await compileIssue(parseIssueFile(EXAMPLE_ISSUE, { siteUrl: EXAMPLE_SITE_URL }), { listName: 'Tidewater Weekly' })),
  );
  const factory = prepareMessages(compiled, opts);
  const built = factory.build(ana);
  const mail = await simpleParser(built.raw);

  it('builds a multipart/alternative UTF-8 message mailparser reads back', () => {
    assertWellFormed(built.raw);
    expect(mail.subject).toBe(compiled.meta.title);
    expect(built.subject).toBe(compiled.meta.title);
    expect(mail.headers.get('content-type')).toMatchObject({ value: 'multipart/alternative' });
    expect(mail.text).toContain('Developer News');
    expect(mail.html).toContain('<h2');
    expect(mail.to).toMatchObject({ value: [{ address: 'ana@example.com', name: 'Ana Ruiz' }] });
    expect(mail.from).toMatchObject({ value: [{ address: 'news@tidewater.example.org', name: 'Tidewater Weekly' }] });
  });

  it('carries one-click unsubscribe, List-Id, ids, Date and Message-ID', () => {
    expect(mail.headers.get('list')).toMatchObject({
      unsubscribe: { url: 'https://news.example.org/u/tok-42', mail: 'unsubscribe@tidewater.example.org' },
      id: { id: 'weekly.tidewater.example.org', name: 'Tidewater Weekly' },
    });
    expect(headerLine(mail, 'list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(mail.headers.get('x-newsletter-campaign')).toBe('7');
    expect(mail.headers.get('x-newsletter-subscriber')).toBe('42');
    expect(mail.messageId).toMatch(/^<7\.[0-9a-f]+\.42\.\w+@tidewater\.example\.org>$/);
    expect(Math.abs((mail.date?.getTime() ?? 0) - Date.now())).toBeLessThan(5000);
    expect(factory.build(ana).raw.toString()).not.toContain(mail.messageId);
  });

  it('personalizes the body: unsubscribe link, address, archive link; editor braces intact', () => {
    expect(mail.html).toContain('href="https://news.example.org/u/tok-42"');
    expect(mail.html).toContain('ana@example.com');
    expect(mail.html).toContain('href="https://tidewater.example.org/2026/11/22/"');
    expect(mail.text).toContain('Unsubscribe with one click: https://news.example.org/u/tok-42');
    expect(mail.html).toContain('{{vessel.name}} or ${HOME}');
    expect(mail.text).toContain('{{vessel.name}} or ${HOME}');
  });

  it('hides the archive link when no archiveUrl is given', async () => {
    const m = await simpleParser(prepareMessages(compiled, { ...opts, archiveUrl: undefined }).build(ana).raw);
    expect(m.html).not.toContain('View this issue in your browser');
    expect(m.text).not.toContain('View in your browser');
  });

  it('matches MailComposer on subject, parts and headers', async () => {
    const html = Handlebars.compile(compiled.htmlTemplate)({ ...TEMPLATE_CONSTANTS, archiveUrl: opts.archiveUrl, ...ana });
    const text = Handlebars.compile(compiled.textTemplate, { noEscape: true })({ ...TEMPLATE_CONSTANTS, archiveUrl: opts.archiveUrl, ...ana });
    const reference = await new MailComposer({ from: opts.from, to: { name: ana.name ?? '', address: ana.email }, subject: compiled.meta.title, text, html }).compile().build();
    const ref = await simpleParser(reference);
    expect(mail.subject).toBe(ref.subject);
    expect(mail.text).toBe(ref.text);
    expect(mail.html).toBe(ref.html);
    expect(mail.to).toEqual(ref.to);
    expect(mail.attachments).toEqual(ref.attachments);
  });

  it('escapes a hostile subscriber name: no header injection, no script', async () => {
    const hostile = { ...ana, name: 'Eve <script>alert(1)</script>\r\nBcc: victim@example.com\r\n\r\n<b>x' };
    const custom: CompiledIssue = { ...compiled, htmlTemplate: '<p>Hi {{name}} ({{email}})</p>', textTemplate: 'Hi {{name}}', subjectTemplate: 'For {{name}}' };
    const raw = prepareMessages(custom, opts).build(hostile).raw;
    assertWellFormed(raw);
    const m = await simpleParser(raw);
    expect(m.bcc).toBeUndefined();
    expect(m.headerLines.filter((h) => /^bcc/i.test(h.key))).toEqual([]);
    expect(m.html).toBe('<p>Hi Eve &lt;script&gt;alert(1)&lt;/script&gt; Bcc: victim@example.com &lt;b&gt;x (ana@example.com)</p>');
    expect(m.subject).toBe('For Eve <script>alert(1)</script> Bcc: victim@example.com <b>x');
    expect(m.to).toMatchObject({ value: [{ address: 'ana@example.com' }] });
  });

  it('refuses CRLF in the email address or unsubscribe URL', () => {
    expect(() => factory.build({ ...ana, email: 'ana@example.com\r\nBcc: x@example.com' })).toThrow(InputError);
    expect(() => factory.build({ ...ana, unsubscribeUrl: 'https://x.example/u\r\nBcc: x@example.com' })).toThrow(InputError);
    expect(() => factory.build({ ...ana, unsubscribeUrl: 'javascript:alert(1)' })).toThrow(InputError);
  });

  it('refuses corrupt compiled data with a clear error', () => {
    expect(() => prepareMessages({ ...compiled, htmlTemplate: '{{#if x}}unclosed' }, opts)).toThrow(/compiled issue templates are invalid/);
    expect(() => prepareMessages({ ...compiled, version: 2 } as unknown as CompiledIssue, opts)).toThrow(InputError);
    expect(() => prepareMessages(compiled, { ...opts, from: 'Bad\r\nBcc: x@example.com <a@example.com>' })).toThrow(/invalid From address/);
    expect(() => prepareMessages(compiled, { ...opts, archiveUrl: 'https://x.example/a\r\nBcc: y@example.com' })).toThrow(/invalid archive URL/);
  });

  it('encodes non-ASCII names and subjects', async () => {
    const c: CompiledIssue = { ...compiled, subjectTemplate: 'Crème brûlée — {{name}}' };
    const m = await simpleParser(prepareMessages(c, { ...opts, listId: 'Zoë’s list <z.example.org>' }).build({ ...ana, name: 'Zoë 東京' }).raw);
    expect(m.subject).toBe('Crème brûlée — Zoë 東京');
    expect(m.to).toMatchObject({ value: [{ name: 'Zoë 東京' }] });
  });

  it('falls back to a full Handlebars render when a field sits inside a block, with the same result', async () => {
    const custom: CompiledIssue = { ...compiled, htmlTemplate: '<p>{{#if name}}Hi {{name}}{{else}}Hello{{/if}} {{email}}</p>', textTemplate: '{{#if name}}Hi {{name}}{{/if}}' };
    const f = prepareMessages(custom, opts);
    expect((await simpleParser(f.build(ana).raw)).html).toBe('<p>Hi Ana Ruiz ana@example.com</p>');
    expect((await simpleParser(f.build({ ...ana, name: null }).raw)).html).toBe('<p>Hello ana@example.com</p>');
  });
});

function headerLine(mail: ParsedMail, key: string): string | undefined {
  return mail.headerLines.find((h) => h.key === key)?.line;
}
