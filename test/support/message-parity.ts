/**
 * A raw campaign message split into what every copy of a campaign shares and what is
 * this copy's own (recipient, Message-ID/Date, unsubscribe token, test marker), so tests
 * can assert that two copies differ only in the latter.
 */
import { simpleParser } from 'mailparser';

/** Headers that belong to one copy; everything else must be identical between copies. */
export const PER_COPY_HEADERS = ['to', 'message-id', 'date', 'list-unsubscribe', 'x-newsletter-subscriber', 'x-newsletter-test'] as const;

export interface SplitMessage {
  /** Shared headers, unfolded; the MIME boundary (random per prepared factory) left out. */
  shared: Record<string, string>;
  /** Bodies with this copy's address and unsubscribe URL replaced by placeholders. */
  text: string;
  html: string;
  own: Partial<Record<(typeof PER_COPY_HEADERS)[number], string>>;
  unsubscribeUrl: string;
  subject: string;
}

export async function splitMessage(raw: Buffer, recipientEmail: string): Promise<SplitMessage> {
  const mail = await simpleParser(raw);
  const shared: Record<string, string> = {};
  const own: SplitMessage['own'] = {};
  for (const { key, line } of mail.headerLines) {
    const value = line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
    if ((PER_COPY_HEADERS as readonly string[]).includes(key)) own[key as (typeof PER_COPY_HEADERS)[number]] = value;
    else shared[key] = key === 'content-type' ? value.replace(/;\s*boundary="[^"]*"/, '') : value;
  }
  const unsubscribeUrl = /<(https?:[^>]+)>/.exec(own['list-unsubscribe'] ?? '')?.[1] ?? '';
  const neutral = (s: string) => s.replaceAll(unsubscribeUrl, '{UNSUBSCRIBE_URL}').replaceAll(recipientEmail, '{EMAIL}');
  return { shared, text: neutral(mail.text ?? ''), html: neutral(typeof mail.html === 'string' ? mail.html : ''), own, unsubscribeUrl, subject: mail.subject ?? '' };
}
