/**
 * SES notification (the string an SNS Notification carries in `Message`) → domain
 * events, one per affected recipient. Pure. Understands both identity notifications
 * (`notificationType`) and configuration-set event publishing (`eventType`, with
 * `mail.tags` as a map of arrays). Anything else becomes one `other` event so it is
 * still stored, never fatal.
 */

import { smtpStatusOf } from './mailbox-provider.js';

export type SesEventType =
  | 'bounce'
  | 'complaint'
  | 'delivery'
  | 'send'
  | 'reject'
  | 'delivery_delay'
  | 'open'
  | 'click'
  | 'rendering_failure'
  | 'subscription'
  | 'other';

export interface SesEvent {
  type: SesEventType;
  /** bounceType, complaintFeedbackType, delayType, … */
  subtype: string | null;
  /** bounceSubType for bounces (General, OnAccountSuppressionList, Suppressed, …). */
  bounceSubType: string | null;
  sesMessageId: string | null;
  /** Recipient, trimmed and lower-cased. */
  email: string | null;
  /** Our coordinates from SES message tags (`campaign`, `subscriber`). */
  campaignId: number | null;
  subscriberId: number | null;
  /** Clicked link, bounce diagnostic, reject reason, … */
  detail: string | null;
  /** For `subscription`: the recipient opted out of everything. */
  unsubscribeAll?: boolean;
  /** Bounce, delivery delay: the SMTP status (`5.7.515`, else `550`), from the diagnostic code or status. */
  smtpStatus?: string | null;
  /** Open, click: what SES reports of the fetch (engagement-class.ts reads these). */
  userAgent?: string | null;
  ipAddress?: string | null;
  /** Open, click: SES's own automated-interaction flag, when the record carries one. */
  sesAutomated?: boolean;
  /** Open, click: when SES accepted the message (`mail.timestamp`). */
  sentAt?: number | null;
  occurredAt: number;
}

/** SES tag names carrying our ledger coordinates (the send pipeline sets them). */
export const CAMPAIGN_TAG = 'campaign';
export const SUBSCRIBER_TAG = 'subscriber';

const TYPE_BY_NAME: Record<string, SesEventType> = {
  Bounce: 'bounce',
  Complaint: 'complaint',
  Delivery: 'delivery',
  Send: 'send',
  Reject: 'reject',
  DeliveryDelay: 'delivery_delay',
  Open: 'open',
  Click: 'click',
  'Rendering Failure': 'rendering_failure',
  RenderingFailure: 'rendering_failure',
  Subscription: 'subscription',
};

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export function normalizeEmail(address: string): string {
  return address.trim().toLowerCase();
}

/** Bare address from `Name <addr>` or `addr`. */
function bareAddress(v: unknown): string | null {
  const s = str(v);
  if (!s) return null;
  const m = /<([^<>]+)>\s*$/.exec(s);
  return normalizeEmail(m ? m[1]! : s);
}

function parseTime(v: unknown, fallback: number): number {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isFinite(t) ? t : fallback;
}

/** A positive integer id from a tag value, else null (tags are attacker-irrelevant but may be junk). */
function tagId(v: unknown): number | null {
  const s = Array.isArray(v) ? v[0] : v;
  if (typeof s !== 'string' || !/^\d{1,15}$/.test(s)) return null;
  const n = Number(s);
  return n > 0 ? n : null;
}

/** Campaign and subscriber ids from `mail.tags`, else from the X-SES-MESSAGE-TAGS header. */
export function coordinatesFromMail(mail: Json | undefined): { campaignId: number | null; subscriberId: number | null } {
  let campaignId: number | null = null;
  let subscriberId: number | null = null;
  if (mail && isObject(mail.tags)) {
    campaignId = tagId(mail.tags[CAMPAIGN_TAG]);
    subscriberId = tagId(mail.tags[SUBSCRIBER_TAG]);
  }
  if ((campaignId === null || subscriberId === null) && mail && Array.isArray(mail.headers)) {
    for (const h of mail.headers) {
      if (!isObject(h) || typeof h.name !== 'string' || h.name.toLowerCase() !== 'x-ses-message-tags') continue;
      for (const pair of String(h.value ?? '').split(',')) {
        const [k, v] = pair.split('=').map((s) => s.trim());
        if (k === CAMPAIGN_TAG && campaignId === null) campaignId = tagId(v);
        if (k === SUBSCRIBER_TAG && subscriberId === null) subscriberId = tagId(v);
      }
    }
  }
  return { campaignId, subscriberId };
}

function recipientsOf(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  const out: string[] = [];
  for (const r of list) {
    const addr = isObject(r) ? bareAddress(r.emailAddress) : bareAddress(r);
    if (addr && !out.includes(addr)) out.push(addr);
  }
  return out;
}

/**
 * Parse an SNS `Message` into domain events. `now` is used when the notification
 * carries no parseable timestamp.
 */
export function parseSesNotification(message: string, now: number = Date.now()): SesEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return [otherEvent(now)];
  }
  if (!isObject(parsed)) return [otherEvent(now)];
  const name = str(parsed.eventType) ?? str(parsed.notificationType);
  const type = name ? TYPE_BY_NAME[name] : undefined;
  if (!type) return [otherEvent(now)];

  const mail = isObject(parsed.mail) ? parsed.mail : undefined;
  const base = {
    sesMessageId: str(mail?.messageId),
    ...coordinatesFromMail(mail),
    subtype: null as string | null,
    bounceSubType: null as string | null,
    detail: null as string | null,
  };
  const mailTime = parseTime(mail?.timestamp, now);
  const destination = recipientsOf(mail?.destination);
  const perRecipient = (recipients: string[], extra: Partial<SesEvent>, at: number): SesEvent[] => {
    const list = recipients.length > 0 ? recipients : [null];
    return list.map((email) => ({ type, ...base, email, occurredAt: at, ...extra }));
  };

  switch (type) {
    case 'bounce': {
      const b = isObject(parsed.bounce) ? parsed.bounce : {};
      const at = parseTime(b.timestamp, mailTime);
      const recips = Array.isArray(b.bouncedRecipients) ? b.bouncedRecipients.filter(isObject) : [];
      const common = { subtype: str(b.bounceType) ?? 'Undetermined', bounceSubType: str(b.bounceSubType) };
      if (recips.length === 0) return perRecipient([], common, at);
      const seen = new Set<string>();
      const events: SesEvent[] = [];
      for (const r of recips) {
        const email = bareAddress(r.emailAddress);
        if (!email || seen.has(email)) continue;
        seen.add(email);
        const detail = str(r.diagnosticCode) ?? str(r.status);
        const smtpStatus = smtpStatusOf(str(r.status), str(r.diagnosticCode));
        events.push({ type, ...base, ...common, email, detail: detail ? detail.slice(0, 1000) : null, smtpStatus, occurredAt: at });
      }
      return events.length ? events : perRecipient([], common, at);
    }
    case 'complaint': {
      const c = isObject(parsed.complaint) ? parsed.complaint : {};
      return perRecipient(
        recipientsOf(c.complainedRecipients),
        { subtype: str(c.complaintFeedbackType), detail: str(c.complaintSubType) },
        parseTime(c.timestamp, mailTime),
      );
    }
    case 'delivery': {
      const d = isObject(parsed.delivery) ? parsed.delivery : {};
      const recips = recipientsOf(d.recipients);
      return perRecipient(recips.length ? recips : destination, { detail: str(d.smtpResponse) }, parseTime(d.timestamp, mailTime));
    }
    case 'send':
      return perRecipient(destination, {}, mailTime);
    case 'reject': {
      const r = isObject(parsed.reject) ? parsed.reject : {};
      return perRecipient(destination, { detail: str(r.reason) }, mailTime);
    }
    case 'delivery_delay': {
      const d = isObject(parsed.deliveryDelay) ? parsed.deliveryDelay : {};
      const at = parseTime(d.timestamp, mailTime);
      const subtype = str(d.delayType);
      const delayed = Array.isArray(d.delayedRecipients) ? d.delayedRecipients.filter(isObject) : [];
      const events: SesEvent[] = [];
      for (const r of delayed) {
        const email = bareAddress(r.emailAddress);
        if (!email || events.some((e) => e.email === email)) continue;
        const detail = str(r.diagnosticCode) ?? str(r.status);
        events.push({ type, ...base, subtype, email, detail: detail ? detail.slice(0, 1000) : null, smtpStatus: smtpStatusOf(str(r.status), str(r.diagnosticCode)), occurredAt: at });
      }
      return events.length ? events : perRecipient(destination, { subtype }, at);
    }
    case 'open': {
      const o = isObject(parsed.open) ? parsed.open : {};
      return perRecipient(destination, fetchFacts(o, mail), parseTime(o.timestamp, mailTime));
    }
    case 'click': {
      const c = isObject(parsed.click) ? parsed.click : {};
      const link = str(c.link);
      return perRecipient(destination, { detail: link ? link.slice(0, 2000) : null, ...fetchFacts(c, mail) }, parseTime(c.timestamp, mailTime));
    }
    case 'rendering_failure': {
      const f = isObject(parsed.failure) ? parsed.failure : {};
      return perRecipient(destination, { detail: str(f.errorMessage) }, mailTime);
    }
    case 'subscription': {
      const s = isObject(parsed.subscription) ? parsed.subscription : {};
      const prefs = isObject(s.newTopicPreferences) ? s.newTopicPreferences : {};
      return perRecipient(
        destination,
        { subtype: str(s.source), detail: str(s.contactList), unsubscribeAll: prefs.unsubscribeAll === true },
        parseTime(s.timestamp, mailTime),
      );
    }
    default:
      return [otherEvent(now)];
  }
}

/** What an open/click record says about the fetch: user agent, address, SES's automated flag, send time. */
function fetchFacts(o: Json, mail: Json | undefined): Partial<SesEvent> {
  const agent = str(o.userAgent);
  const ip = str(o.ipAddress);
  const sent = typeof mail?.timestamp === 'string' ? Date.parse(mail.timestamp) : NaN;
  return {
    userAgent: agent ? agent.slice(0, 500) : null,
    ipAddress: ip && /^[0-9a-fA-F:.]{2,45}$/.test(ip) ? ip : null,
    sesAutomated: o.automated === true || o.isAutomated === true,
    sentAt: Number.isFinite(sent) ? sent : null,
  };
}

function otherEvent(now: number): SesEvent {
  return {
    type: 'other',
    subtype: null,
    bounceSubType: null,
    sesMessageId: null,
    email: null,
    campaignId: null,
    subscriberId: null,
    detail: null,
    occurredAt: now,
  };
}
