import { randomBytes } from 'node:crypto';
import Handlebars from 'handlebars';
import { InputError } from '../errors.js';
import {
  assertEmailAddress,
  assertHeaderUrl,
  encodeUnstructured,
  encodeWords,
  formatAddress,
  formatRfc5322Date,
  parseAddress,
  qpEncode,
  stripControl,
} from './mime.js';
import { TEMPLATE_CONSTANTS } from './template-text.js';
import type { BuiltMessage, CompiledIssue, MessageFactory, MessageOptions, Recipient } from './types.js';

type Program = ReturnType<typeof Handlebars.parse>;

interface RecipientValues {
  name: string;
  email: string;
  unsubscribeUrl: string;
}

/**
 * A template body turned into a quoted-printable encoder for one recipient. Fast path: the
 * template is rendered ONCE with sentinels for the recipient fields, the fixed stretches are
 * QP-encoded once (each ending in a soft line break, so pieces concatenate), and per
 * recipient only the field values are escaped and encoded. Templates that use a recipient
 * field inside a block ({{#if name}}) fall back to a full Handlebars render per recipient.
 */
type BodyEncoder = (values: RecipientValues, out: Buffer[]) => void;

// QP output is 7-bit ASCII, so latin1 is an exact, fast conversion.
const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

function prepareBody(source: string, constants: Record<string, unknown>, htmlEscape: boolean): BodyEncoder {
  const template = Handlebars.compile(source, { noEscape: !htmlEscape, strict: false });
  const escape = htmlEscape ? Handlebars.Utils.escapeExpression : (s: string): string => s;
  if (!fieldsOnlyAsPlainMustaches(Handlebars.parse(source))) {
    return (values, out) => {
      out.push(ascii(qpEncode(template({ ...constants, ...values }))));
    };
  }
  const tag = `nl${randomBytes(6).toString('hex')}`;
  const rendered = template({ ...constants, name: `${tag}PnameQ`, email: `${tag}PemailQ`, unsubscribeUrl: `${tag}PunsubscribeUrlQ` });
  const pieces = rendered.split(new RegExp(`${tag}P(\\w+?)Q`));
  // pieces: fixed, field, fixed, field, …, fixed
  const fixed: Buffer[] = [];
  const fields: Array<keyof RecipientValues> = [];
  for (let i = 0; i < pieces.length; i++) {
    if (i % 2 === 0) fixed.push(ascii(qpEncode(pieces[i] as string, i < pieces.length - 1)));
    else fields.push(pieces[i] as keyof RecipientValues);
  }
  // Buffers, not strings: concatenating one large string per message and converting it
  // costs far more than copying these prepared pieces once with Buffer.concat.
  return (values, out) => {
    out.push(fixed[0] as Buffer);
    for (let i = 0; i < fields.length; i++) {
      out.push(ascii(qpEncode(escape(values[fields[i] as keyof RecipientValues]), true)), fixed[i + 1] as Buffer);
    }
  };
}

/** True when recipient fields appear only as `{{field}}` / `{{{field}}}`, never inside blocks or as helper arguments. */
function fieldsOnlyAsPlainMustaches(program: Program): boolean {
  for (const stmt of program.body) {
    if (stmt.type === 'ContentStatement' || stmt.type === 'CommentStatement') continue;
    const m = stmt as { type: string; params?: unknown[]; hash?: { pairs: unknown[] } };
    if (m.type === 'MustacheStatement' && (m.params?.length ?? 0) === 0 && (m.hash?.pairs.length ?? 0) === 0) continue;
    if (usesRecipientField(stmt)) return false;
  }
  return true;
}

/** Whether an AST node refers to a per-recipient field anywhere below it. */
function usesRecipientField(node: unknown): boolean {
  return /"original":"(name|email|unsubscribeUrl)"/.test(JSON.stringify(node, (k, v: unknown) => (k === 'loc' ? undefined : v)));
}

/** `Phrase <list.id.domain>`: the id must be plain; a non-ASCII phrase is RFC 2047-encoded. */
function encodeListId(value: string): string {
  const m = /^(.*?)\s*<([A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+)>$/.exec(value);
  if (!m) throw new InputError(`invalid listId (expected "Name <id.example.com>"): ${JSON.stringify(value.slice(0, 80))}`);
  const phrase = m[1] as string;
  return phrase ? `${/^[\x20-\x7e]*$/.test(phrase) && !phrase.includes('=?') ? phrase : encodeWords(phrase)} <${m[2]}>` : `<${m[2]}>`;
}

const HTTPS_OR_HTTP = /^https?:\/\/[^/\s]/i;
const MAILTO = /^mailto:[^\s]+@/i;

/**
 * Prepare the per-recipient message builder for one campaign (once per process). Everything
 * that is the same for every recipient (fixed headers, the QP-encoded template stretches,
 * the MIME boundary) is computed here; build() only encodes the recipient's own values.
 */
export function prepareMessages(compiled: CompiledIssue, options: MessageOptions): MessageFactory {
  if (compiled?.version !== 1) throw new InputError('compiled issue has an unknown version; recompile it');
  const from = parseAddress(options.from);
  const fromHeader = formatAddress(from.name, from.email);
  const domain = from.email.split('@')[1] as string;
  const listId = encodeListId(stripControl(options.listId));
  if (!Number.isSafeInteger(options.campaignId)) throw new InputError('campaignId must be an integer');
  const mailto = options.unsubscribeMailto ? assertHeaderUrl(options.unsubscribeMailto.startsWith('mailto:') ? options.unsubscribeMailto : `mailto:${options.unsubscribeMailto}`, MAILTO, 'unsubscribe mailto') : null;
  const archiveUrl = options.archiveUrl ? assertHeaderUrl(options.archiveUrl, HTTPS_OR_HTTP, 'archive URL') : '';

  const constants = { ...TEMPLATE_CONSTANTS, archiveUrl };
  let html: BodyEncoder;
  let text: BodyEncoder;
  let subjectIsFixed: boolean;
  try {
    html = prepareBody(compiled.htmlTemplate, constants, true);
    text = prepareBody(compiled.textTemplate, constants, false);
    subjectIsFixed = !usesRecipientField(Handlebars.parse(compiled.subjectTemplate));
  } catch (err) {
    // Stored templates are produced by compileIssue; a parse failure means corrupt data.
    throw new InputError(`compiled issue templates are invalid (${(err as Error).message.split('\n')[0]}); recompile the issue`);
  }
  const subjectTemplate = Handlebars.compile(compiled.subjectTemplate, { noEscape: true });
  const fixedSubject = subjectIsFixed ? stripControl(subjectTemplate(constants)) : null;
  const fixedSubjectHeader = fixedSubject !== null ? `Subject: ${encodeUnstructured(fixedSubject)}\r\n` : '';

  // "=_" can never occur in quoted-printable output, so the boundary cannot collide with a body.
  const boundary = `=_nl_${randomBytes(12).toString('hex')}`;
  const fixedHeaders =
    `From: ${fromHeader}\r\n` +
    'MIME-Version: 1.0\r\n' +
    `List-Id: ${listId}\r\n` +
    'List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n' +
    `X-Newsletter-Campaign: ${options.campaignId}\r\n` +
    `Content-Type: multipart/alternative; boundary="${boundary}"\r\n\r\n`;
  const textHead = ascii(`--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`);
  const htmlHead = ascii(`\r\n--${boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`);
  const tail = ascii(`\r\n--${boundary}--\r\n`);
  const idPrefix = `${options.campaignId}.${randomBytes(6).toString('hex')}`;
  let counter = 0;
  let dateSecond = -1;
  let dateHeader = '';

  return {
    build(recipient: Recipient): BuiltMessage {
      const email = assertEmailAddress(recipient.email, 'recipient email');
      const unsubscribeUrl = assertHeaderUrl(recipient.unsubscribeUrl, HTTPS_OR_HTTP, 'unsubscribe URL');
      if (!Number.isSafeInteger(recipient.subscriberId)) throw new InputError('subscriberId must be an integer');
      const name = recipient.name ? stripControl(recipient.name) : '';
      const values: RecipientValues = { name, email, unsubscribeUrl };

      const now = Date.now();
      const second = Math.floor(now / 1000);
      if (second !== dateSecond) {
        dateSecond = second;
        dateHeader = `Date: ${formatRfc5322Date(new Date(now))}\r\n`;
      }
      const subject = fixedSubject ?? stripControl(subjectTemplate({ ...constants, ...values }));
      const head =
        `To: ${formatAddress(name, email)}\r\n` +
        (fixedSubject !== null ? fixedSubjectHeader : `Subject: ${encodeUnstructured(subject)}\r\n`) +
        dateHeader +
        `Message-ID: <${idPrefix}.${recipient.subscriberId}.${(counter++).toString(36)}@${domain}>\r\n` +
        `List-Unsubscribe: <${unsubscribeUrl}>${mailto ? `,\r\n <${mailto}>` : ''}\r\n` +
        `X-Newsletter-Subscriber: ${recipient.subscriberId}\r\n` +
        fixedHeaders;
      const chunks: Buffer[] = [ascii(head), textHead];
      text(values, chunks);
      chunks.push(htmlHead);
      html(values, chunks);
      chunks.push(tail);
      // Joined only when asked for: the send path hands the pieces to the transport.
      let raw: Buffer | undefined;
      return {
        subject,
        parts: chunks,
        get raw() {
          return (raw ??= Buffer.concat(chunks));
        },
      };
    },
  };
}
