/**
 * The SES mailbox simulator and the notifications SES publishes, as pure functions:
 * which outcome an address gets, and the exact event-publishing (`eventType`) or
 * identity-notification (`notificationType`) payloads SES would put in the SNS
 * `Message`, shaped like ../shared/fixtures/ses/aws-docs-examples.json.
 */

export type MailboxOutcome = 'success' | 'bounce' | 'complaint' | 'ooto' | 'suppressionlist';

const SIMULATOR_DOMAIN = 'simulator.amazonses.com';
const OUTCOMES: readonly MailboxOutcome[] = ['success', 'bounce', 'complaint', 'ooto', 'suppressionlist'];

/** The mailbox-simulator outcome of an address (`bounce+anything@simulator.amazonses.com` too), or null. */
export function mailboxOutcome(address: string): MailboxOutcome | null {
  const bare = extractAddresses(address)[0] ?? address;
  const at = bare.lastIndexOf('@');
  if (at < 0 || bare.slice(at + 1).toLowerCase() !== SIMULATOR_DOMAIN) return null;
  const local = bare.slice(0, at).split('+')[0]!.toLowerCase();
  return (OUTCOMES as readonly string[]).includes(local) ? (local as MailboxOutcome) : null;
}

/** Header fields of a raw RFC 5322 message (unfolded), in order. */
export function parseRawHeaders(raw: Buffer): Array<{ name: string; value: string }> {
  // Headers are ASCII; only look at the header block, never decode the whole body.
  let end = raw.indexOf('\r\n\r\n');
  let sep = '\r\n';
  if (end < 0) {
    end = raw.indexOf('\n\n');
    sep = '\n';
  }
  const block = raw.subarray(0, end < 0 ? Math.min(raw.length, 64 * 1024) : end).toString('latin1');
  const headers: Array<{ name: string; value: string }> = [];
  for (const line of block.split(sep)) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      headers[headers.length - 1]!.value += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  return headers;
}

export function headerValue(headers: Array<{ name: string; value: string }>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find((h) => h.name.toLowerCase() === lower)?.value;
}

/** Bare addresses in an address-list header value (`"Doe, J" <j@x>, k@y`). */
export function extractAddresses(value: string): string[] {
  const out: string[] = [];
  // Drop quoted display names first: they may contain commas and angle brackets.
  const unquoted = value.replace(/"(?:[^"\\]|\\.)*"/g, '');
  for (const part of unquoted.split(',')) {
    const angle = /<([^<>]*)>/.exec(part);
    const addr = (angle ? angle[1]! : part).trim();
    if (addr.includes('@')) out.push(addr);
  }
  return out;
}

export interface SimulatedMail {
  messageId: string;
  at: number;
  source: string;
  destinations: string[];
  raw: Buffer;
  tags: Record<string, string>;
  configurationSet?: string;
}

export interface MailContext {
  accountId: string;
  region: string;
  sourceIp: string;
  callerIdentity: string;
}

export type NotificationFormat = 'event' | 'identity';

function fromDomain(source: string): string {
  const addr = extractAddresses(source)[0] ?? source;
  return addr.slice(addr.lastIndexOf('@') + 1).toLowerCase();
}

/** The `mail` object SES puts in every notification about a message. */
export function mailObject(
  mail: SimulatedMail,
  ctx: MailContext,
  format: NotificationFormat,
  extraTags: Record<string, string[]> = {},
): Record<string, unknown> {
  const headers = parseRawHeaders(mail.raw);
  const domain = fromDomain(mail.source);
  const common: Record<string, unknown> = {};
  const from = headerValue(headers, 'From');
  const to = headerValue(headers, 'To');
  if (from) common.from = [from];
  const date = headerValue(headers, 'Date');
  if (date) common.date = date;
  if (to) common.to = [to];
  const mid = headerValue(headers, 'Message-ID');
  if (mid) common.messageId = mid;
  const subject = headerValue(headers, 'Subject');
  if (subject !== undefined) common.subject = subject;
  const obj: Record<string, unknown> = {
    timestamp: new Date(mail.at).toISOString(),
    source: mail.source,
    sourceArn: `arn:aws:ses:${ctx.region}:${ctx.accountId}:identity/${domain}`,
    sourceIp: ctx.sourceIp,
    sendingAccountId: ctx.accountId,
    callerIdentity: ctx.callerIdentity,
    messageId: mail.messageId,
    destination: mail.destinations,
    headersTruncated: false,
    headers,
    commonHeaders: common,
  };
  if (format === 'event') {
    // Event publishing always carries tags, as a map of arrays, SES's own first.
    const tags: Record<string, string[]> = {};
    if (mail.configurationSet) tags['ses:configuration-set'] = [mail.configurationSet];
    tags['ses:source-ip'] = [ctx.sourceIp];
    tags['ses:from-domain'] = [domain];
    tags['ses:caller-identity'] = [ctx.callerIdentity];
    Object.assign(tags, extraTags);
    for (const [k, v] of Object.entries(mail.tags)) tags[k] = [v];
    obj.tags = tags;
  }
  return obj;
}

export interface SesNotification {
  /** eventType / notificationType value. */
  type: 'Send' | 'Delivery' | 'Bounce' | 'Complaint';
  /** Recipient it concerns (all destinations for Send). */
  recipients: string[];
  payload: Record<string, unknown>;
}

function typeKey(format: NotificationFormat, type: string): Record<string, string> {
  return format === 'event' ? { eventType: type } : { notificationType: type };
}

function feedbackId(mail: SimulatedMail, n: number): string {
  return `${mail.messageId.replace(/-000000$/, '')}-fb${n}-000000`;
}

export function sendNotification(mail: SimulatedMail, ctx: MailContext): SesNotification {
  return {
    type: 'Send',
    recipients: mail.destinations,
    payload: { eventType: 'Send', mail: mailObject(mail, ctx, 'event'), send: {} },
  };
}

export function deliveryNotification(
  mail: SimulatedMail,
  recipient: string,
  ctx: MailContext,
  format: NotificationFormat,
  at: number,
): SesNotification {
  return {
    type: 'Delivery',
    recipients: [recipient],
    payload: {
      ...typeKey(format, 'Delivery'),
      mail: mailObject(mail, ctx, format, format === 'event' ? { 'ses:outgoing-ip': ['127.0.0.1'] } : {}),
      delivery: {
        timestamp: new Date(at).toISOString(),
        processingTimeMillis: Math.max(0, at - mail.at),
        recipients: [recipient],
        smtpResponse: '250 2.6.0 Message received',
        reportingMTA: 'a8-70.smtp-out.amazonses.com',
        remoteMtaIp: '127.0.2.0',
      },
    },
  };
}

export function bounceNotification(
  mail: SimulatedMail,
  recipient: string,
  ctx: MailContext,
  format: NotificationFormat,
  at: number,
  subType: 'General' | 'Suppressed' | 'OnAccountSuppressionList',
): SesNotification {
  const suppressed = subType !== 'General';
  const bounced: Record<string, unknown> = { emailAddress: recipient, action: 'failed', status: '5.1.1' };
  bounced.diagnosticCode = suppressed
    ? 'Amazon SES has suppressed sending to this address because it is on the suppression list.'
    : 'smtp; 550 5.1.1 user unknown';
  return {
    type: 'Bounce',
    recipients: [recipient],
    payload: {
      ...typeKey(format, 'Bounce'),
      bounce: {
        bounceType: 'Permanent',
        bounceSubType: subType,
        bouncedRecipients: [bounced],
        timestamp: new Date(at).toISOString(),
        feedbackId: feedbackId(mail, 1),
        reportingMTA: 'dns; amazonses.com',
        remoteMtaIp: '127.0.2.0',
      },
      mail: mailObject(mail, ctx, format),
    },
  };
}

export function complaintNotification(
  mail: SimulatedMail,
  recipient: string,
  ctx: MailContext,
  format: NotificationFormat,
  at: number,
): SesNotification {
  return {
    type: 'Complaint',
    recipients: [recipient],
    payload: {
      ...typeKey(format, 'Complaint'),
      complaint: {
        complainedRecipients: [{ emailAddress: recipient }],
        timestamp: new Date(at).toISOString(),
        feedbackId: feedbackId(mail, 2),
        userAgent: 'Amazon SES Mailbox Simulator',
        complaintFeedbackType: 'abuse',
        arrivalDate: new Date(at).toISOString(),
      },
      mail: mailObject(mail, ctx, format),
    },
  };
}

export interface MailboxPolicy {
  /** Publish a `Send` event for every accepted message (event format only). */
  sendEvents: boolean;
  /** Publish `Delivery` for ordinary (non-simulator) recipients too. */
  deliverAll: boolean;
  /** Sub-type of the suppressionlist@ bounce. */
  suppressionSubType: 'Suppressed' | 'OnAccountSuppressionList';
}

/**
 * Everything SES would publish about one accepted message, in order.
 * ooto@: SES delivers the message and the auto-reply goes to the sender's mailbox;
 * SES itself publishes only a Delivery, so that is what the simulator posts.
 * complaint@: delivered first, then complained about (SES posts both).
 */
export function notificationsFor(
  mail: SimulatedMail,
  ctx: MailContext,
  format: NotificationFormat,
  policy: MailboxPolicy,
  at: number,
): SesNotification[] {
  const out: SesNotification[] = [];
  // Identity notifications have no Send type; event publishing does.
  if (format === 'event' && policy.sendEvents) out.push(sendNotification(mail, ctx));
  for (const recipient of mail.destinations) {
    const outcome = mailboxOutcome(recipient);
    switch (outcome) {
      case 'bounce':
        out.push(bounceNotification(mail, recipient, ctx, format, at, 'General'));
        break;
      case 'suppressionlist':
        out.push(bounceNotification(mail, recipient, ctx, format, at, policy.suppressionSubType));
        break;
      case 'complaint':
        out.push(deliveryNotification(mail, recipient, ctx, format, at));
        out.push(complaintNotification(mail, recipient, ctx, format, at));
        break;
      case 'success':
      case 'ooto':
        out.push(deliveryNotification(mail, recipient, ctx, format, at));
        break;
      case null:
        if (policy.deliverAll) out.push(deliveryNotification(mail, recipient, ctx, format, at));
        break;
    }
  }
  return out;
}
