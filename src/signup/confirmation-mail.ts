/**
 * The double opt-in mail: pure, values in, raw MIME out. Transactional (the reader just
 * asked for it), so no List-Unsubscribe; `Auto-Submitted` keeps auto-responders quiet.
 */
import { randomBytes } from 'node:crypto';
import { escapeHtml } from '../html/html.js';
import { assertEmailAddress, assertHeaderUrl, encodeUnstructured, formatAddress, formatRfc5322Date, parseAddress, qpEncode } from '../render/mime.js';

export interface ConfirmationMailInput {
  /** `Name <address>` (FROM_ADDRESS). */
  from: string;
  to: string;
  /** Shown to the reader: the newsletter's name. */
  listName: string;
  confirmUrl: string;
  expiresAt: number;
  now: number;
}

export function confirmationSubject(listName: string): string {
  return `Confirm your subscription to ${listName}`;
}

export function buildConfirmationMail(input: ConfirmationMailInput): { subject: string; raw: Buffer } {
  const from = parseAddress(input.from);
  const to = assertEmailAddress(input.to, 'recipient');
  const url = assertHeaderUrl(input.confirmUrl, /^https?:\/\/[^/\s]/i, 'confirmation URL');
  const subject = confirmationSubject(input.listName);
  const until = new Date(input.expiresAt).toUTCString();
  const text = [
    `Please confirm that you want to receive ${input.listName} at ${to}.`,
    '',
    `Confirm: ${url}`,
    '',
    `The link works until ${until}.`,
    'If you did not ask for this, ignore this message: you will not be subscribed and will not hear from us again.',
    '',
  ].join('\n');
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>
<body style="font-family:system-ui,sans-serif;color:#222;max-width:32rem;margin:2rem auto;padding:0 1rem">
<p>Please confirm that you want to receive <strong>${escapeHtml(input.listName)}</strong> at ${escapeHtml(to)}.</p>
<p><a href="${escapeHtml(url)}" style="display:inline-block;background:#326ce5;color:#fff;padding:.6rem 1.2rem;text-decoration:none;border-radius:4px">Confirm my subscription</a></p>
<p style="font-size:.9rem;color:#52606d">The link works until ${escapeHtml(until)}. If you did not ask for this, ignore this message: you will not be subscribed and will not hear from us again.</p>
</body></html>`;
  const boundary = `=_nl_${randomBytes(12).toString('hex')}`;
  const domain = from.email.split('@')[1] as string;
  const head =
    `From: ${formatAddress(from.name, from.email)}\r\n` +
    `To: ${to}\r\n` +
    `Subject: ${encodeUnstructured(subject)}\r\n` +
    `Date: ${formatRfc5322Date(new Date(input.now))}\r\n` +
    `Message-ID: <signup.${randomBytes(9).toString('hex')}@${domain}>\r\n` +
    'Auto-Submitted: auto-generated\r\n' +
    'MIME-Version: 1.0\r\n' +
    `Content-Type: multipart/alternative; boundary="${boundary}"\r\n\r\n`;
  const part = (type: string, body: string) =>
    `--${boundary}\r\nContent-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${qpEncode(body)}\r\n`;
  const raw = head + part('text/plain', text) + part('text/html', html) + `--${boundary}--\r\n`;
  return { subject, raw: Buffer.from(raw, 'latin1') };
}
