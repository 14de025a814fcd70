/**
 * A strict, in-process Amazon SES (v1 Query API) for tests and benchmarks.
 *
 * The real @aws-sdk/client-ses talks to it over HTTP (endpoint: sim.url, any
 * credentials). Unlike aws-ses-v2-local it behaves like a production account:
 * a max send rate over a sliding second and a 24-hour quota answered with SES's
 * own Throttling errors, MessageRejected / InvalidParameterValue, a paused
 * account, injected 5xx, latency and dropped connections. It records every
 * ACCEPTED message (the ground truth the send pipeline's tests count from) and
 * implements the mailbox simulator addresses by posting SNS-signed
 * notifications to `notifyUrl`.
 *
 * Rate and quota count recipients, as SES does (one message to three
 * destinations uses three). Latency is applied after the message is decided
 * and recorded, like a slow network on the way back: a client that times out
 * may have had its message accepted, which is exactly the uncertain case the
 * pipeline reconciles from Send events.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { createSnsSigningIdentity, signedNotification, type SnsSigningIdentity } from './sns-signer.js';
import {
  SES_ERRORS,
  errorResponseXml,
  getSendQuotaResultXml,
  queryResponseXml,
  sendRawEmailResultXml,
  type SesQueryError,
} from './ses-query-xml.js';
import {
  extractAddresses,
  headerValue,
  notificationsFor,
  parseRawHeaders,
  type MailContext,
  type MailboxPolicy,
  type NotificationFormat,
  type SimulatedMail,
} from './mailbox-simulator.js';

export type { SimulatedMail } from './mailbox-simulator.js';

export interface SesSimulatorOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Recipients per second over any sliding 1000 ms; default 14 (a fresh production account). */
  maxSendRate?: number;
  /** Recipients per rolling 24 hours; default 50,000. */
  max24HourSend?: number;
  /** Delay (ms) before every answer; default 0. */
  latencyMs?: number;
  /** Hold a random fraction of send answers this much longer (after acceptance); see `holdResponses`. */
  holdResponses?: { probability: number; ms: number };
  /** Where to POST SNS notifications; unset = none. */
  notifyUrl?: string;
  topicArn?: string;
  /** Certificate and key to sign with; generated when notifications are on and none is given. */
  signingIdentity?: SnsSigningIdentity;
  signatureVersion?: '1' | '2';
  notificationFormat?: NotificationFormat;
  /** Publish a Send event per accepted message (event format); default true. */
  sendEvents?: boolean;
  /** Publish Delivery for ordinary recipients, not only simulator addresses; default false. */
  deliverAll?: boolean;
  suppressionSubType?: MailboxPolicy['suppressionSubType'];
  /** Delay before notifications are posted (SES publishes within seconds); default 0. */
  notifyDelayMs?: number;
  /** Attempts per notification POST; default 4 (first try + 3 retries, 50/100/200 ms apart). */
  notifyAttempts?: number;
  /** Notification POSTs in flight at once; default 16 (SNS also delivers over a bounded pool). */
  notifyConcurrency?: number;
  /** Configuration sets that exist; unset = any name is accepted. */
  configurationSets?: string[];
  /** Recipients (bare addresses, case-insensitive) answered with MessageRejected. */
  rejectRecipients?: string[];
  /** Keep raw message bytes in the record (default true; turn off for 100k-message benches). */
  keepRaw?: boolean;
  /** Clock, for tests. */
  now?: () => number;
}

export interface NotificationRecord {
  type: string;
  recipients: string[];
  messageId: string;
  snsMessageId: string;
  body: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  httpStatus?: number;
}

export interface SesSimulatorStats {
  accepted: number;
  recipients: number;
  throttledRate: number;
  throttledQuota: number;
  errors: Record<string, number>;
  worstSecond: number;
  duplicateRecipients: number;
  notificationsDelivered: number;
  notificationsFailed: number;
  notificationsPending: number;
}

export interface SesSimulator {
  url: string;
  port: number;
  /** Every accepted message, in acceptance order. */
  messages: SimulatedMail[];
  notifications: NotificationRecord[];
  /** Certificate the notifications are signed with (null while notifications are off). */
  signingIdentity: SnsSigningIdentity | null;
  topicArn: string;
  setMaxSendRate(rate: number): void;
  setQuota(max24HourSend: number): void;
  /** Forget the last 24 hours' usage (quota "frees up"). */
  resetDailyUsage(): void;
  setPaused(paused: boolean): void;
  setLatency(ms: number): void;
  /** Answer the next n SendRawEmail/SendEmail calls with an HTTP `status` server fault. */
  failNext(n: number, status?: number): void;
  /** Destroy the connection of the next n send calls without answering (ECONNRESET). */
  dropNext(n: number): void;
  /** Answer a random fraction of send calls with a server fault, until set to 0. */
  injectFailures(options: { probability: number; status?: number }): void;
  /**
   * Hold the answer to a random fraction of send calls `ms` longer, after the message was
   * accepted and recorded (a slow SES: a client that times out had its message sent), until
   * set to probability 0.
   */
  holdResponses(options: { probability: number; ms: number }): void;
  /** Send answers held so far by `holdResponses`. */
  heldCount(): number;
  rejectRecipient(address: string): void;
  setNotifyUrl(url: string | undefined): Promise<void>;
  /** `{certUrl: pem}` for SNS_CERTS / a verifier's certificate source. */
  certs(): Record<string, string>;
  countsByRecipient(): Map<string, number>;
  /** Recipients that were accepted more than once. */
  duplicates(): string[];
  /** Most recipients accepted within any sliding window of `windowMs` (default 1000). */
  worstWindow(windowMs?: number): number;
  throttleCount(): number;
  stats(): SesSimulatorStats;
  /** Wait until every notification POST has finished (delivered or given up). */
  flushNotifications(timeoutMs?: number): Promise<void>;
  /** Clear the record, counters and rate window (settings are kept). */
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:ses-simulator-events';
const DAY_MS = 24 * 3600 * 1000;
const TAG_RE = /^[A-Za-z0-9_-]{1,256}$/;

/** Most timestamps (sorted ascending) inside any half-open window of `windowMs`. */
export function worstSlidingWindow(sortedTimes: readonly number[], windowMs = 1000): number {
  let worst = 0;
  let lo = 0;
  for (let hi = 0; hi < sortedTimes.length; hi++) {
    while (sortedTimes[hi]! - sortedTimes[lo]! >= windowMs) lo++;
    worst = Math.max(worst, hi - lo + 1);
  }
  return worst;
}

function messageIdFor(at: number): string {
  // SES ids look like 0100018bd1b0c3f2-3d5f6e4a-….-000000
  return `${at.toString(16).padStart(16, '0')}-${randomUUID()}-000000`;
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('request too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

type FormParams = Map<string, string>;

function decodeFormComponent(s: string): string {
  if (!/[%+]/.test(s)) return s;
  const spaced = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    // Malformed escapes: the WHATWG parser's (slower, lenient) rules.
    return new URLSearchParams(`x=${s}`).get('x') ?? spaced;
  }
}

/**
 * application/x-www-form-urlencoded → first value per key. Hand-rolled because
 * URLSearchParams costs ~3x more on the 30 KB base64 body of every SendRawEmail,
 * and the simulator must not be a bench's bottleneck.
 */
export function parseForm(body: string): FormParams {
  const out: FormParams = new Map();
  for (const pair of body.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeFormComponent(eq < 0 ? pair : pair.slice(0, eq));
    if (!out.has(key)) out.set(key, eq < 0 ? '' : decodeFormComponent(pair.slice(eq + 1)));
  }
  return out;
}

/** `Prefix.member.N` list parameters, in N order. */
function memberList(params: FormParams, prefix: string): string[] {
  const out: Array<[number, string]> = [];
  const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.member\\.(\\d+)$`);
  for (const [k, v] of params) {
    const m = re.exec(k);
    if (m) out.push([Number(m[1]), v]);
  }
  return out.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

function tagParams(params: FormParams): Array<{ name: string; value: string | null }> {
  const tags: Array<{ name: string; value: string | null }> = [];
  for (let n = 1; params.has(`Tags.member.${n}.Name`); n++) {
    tags.push({ name: params.get(`Tags.member.${n}.Name`)!, value: params.get(`Tags.member.${n}.Value`) ?? null });
  }
  return tags;
}

function createSemaphore(slots: number): { run<T>(task: () => Promise<T>): Promise<T> } {
  let free = slots;
  const waiting: Array<() => void> = [];
  return {
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (free > 0) free--;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await task();
      } finally {
        const next = waiting.shift();
        if (next) next();
        else free++;
      }
    },
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function startSesSimulator(options: SesSimulatorOptions = {}): Promise<SesSimulator> {
  const now = options.now ?? Date.now;
  let maxSendRate = options.maxSendRate ?? 14;
  let max24HourSend = options.max24HourSend ?? 50_000;
  let latencyMs = options.latencyMs ?? 0;
  let paused = false;
  let failNextCount = 0;
  let failNextStatus = 500;
  let dropNextCount = 0;
  let failProbability = 0;
  let failProbabilityStatus = 500;
  let holdProbability = options.holdResponses?.probability ?? 0;
  let holdMs = options.holdResponses?.ms ?? 0;
  let held = 0;
  let notifyUrl = options.notifyUrl;
  const keepRaw = options.keepRaw ?? true;
  const rejects = new Set((options.rejectRecipients ?? []).map((a) => a.toLowerCase()));
  const configurationSets = options.configurationSets ? new Set(options.configurationSets) : null;
  const topicArn = options.topicArn ?? DEFAULT_TOPIC_ARN;
  const format: NotificationFormat = options.notificationFormat ?? 'event';
  const policy: MailboxPolicy = {
    sendEvents: options.sendEvents ?? true,
    deliverAll: options.deliverAll ?? false,
    suppressionSubType: options.suppressionSubType ?? 'Suppressed',
  };
  const ctx: MailContext = { accountId: '123456789012', region: 'us-east-1', sourceIp: '127.0.0.1', callerIdentity: 'ses-simulator' };
  const notifyAttempts = Math.max(1, options.notifyAttempts ?? 4);
  const notifyDelayMs = options.notifyDelayMs ?? 0;
  const notifySlots = createSemaphore(Math.max(1, options.notifyConcurrency ?? 16));

  let identity: SnsSigningIdentity | null = options.signingIdentity ?? null;
  if (notifyUrl && !identity) identity = await createSnsSigningIdentity();

  const messages: SimulatedMail[] = [];
  const notifications: NotificationRecord[] = [];
  // One timestamp per accepted recipient: the rate window (pruned) and the 24-hour window.
  let rateWindow: number[] = [];
  let rateHead = 0;
  let dayUsage: number[] = [];
  let dayHead = 0;
  let allRecipientTimes: number[] = [];
  let throttledRate = 0;
  let throttledQuota = 0;
  let errors: Record<string, number> = {};
  const inflight = new Set<Promise<void>>();

  function countError(code: string): void {
    errors[code] = (errors[code] ?? 0) + 1;
  }

  function usedLastDay(t: number): number {
    while (dayHead < dayUsage.length && dayUsage[dayHead]! <= t - DAY_MS) dayHead++;
    if (dayHead > 4096 && dayHead * 2 > dayUsage.length) {
      dayUsage = dayUsage.slice(dayHead);
      dayHead = 0;
    }
    return dayUsage.length - dayHead;
  }

  function usedLastSecond(t: number): number {
    while (rateHead < rateWindow.length && rateWindow[rateHead]! <= t - 1000) rateHead++;
    if (rateHead > 4096 && rateHead * 2 > rateWindow.length) {
      rateWindow = rateWindow.slice(rateHead);
      rateHead = 0;
    }
    return rateWindow.length - rateHead;
  }

  /** Decide a send: an error, or the accepted mail (already recorded). */
  function acceptSend(input: {
    raw: Buffer;
    source: string | null;
    destinations: string[];
    configurationSet: string | null;
    tags: Array<{ name: string; value: string | null }>;
    /** When the request arrived (its headers); SES rates requests by receipt, not by when it got round to them. */
    arrivedAt?: number;
  }): SesQueryError | SimulatedMail {
    if (paused) return SES_ERRORS.accountPaused();
    const headers = parseRawHeaders(input.raw);
    const fromHeader = headerValue(headers, 'From');
    // SES requires the From header in the raw message even when Source is given.
    if (!fromHeader) return SES_ERRORS.invalidParameter("Missing required header 'From'.");
    const source = input.source ?? fromHeader!;
    if (extractAddresses(source).length === 0) return SES_ERRORS.invalidParameter("Missing final '@domain'");
    let destinations = input.destinations;
    if (destinations.length === 0) {
      destinations = ['To', 'Cc', 'Bcc'].flatMap((h) =>
        headers.filter((x) => x.name.toLowerCase() === h.toLowerCase()).flatMap((x) => extractAddresses(x.value)),
      );
    }
    if (destinations.length === 0) return SES_ERRORS.invalidParameter('Missing final \'@domain\'');
    if (destinations.length > 50) return SES_ERRORS.invalidParameter('Recipient count exceeds 50.');
    for (const d of destinations) {
      const bare = extractAddresses(d)[0];
      if (!bare || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(bare)) return SES_ERRORS.invalidParameter(`Missing final '@domain'`);
      if (rejects.has(bare.toLowerCase())) {
        return SES_ERRORS.messageRejected(
          `Email address is not verified. The following identities failed the check in region US-EAST-1: ${bare}`,
        );
      }
    }
    const tags: Record<string, string> = {};
    for (const tag of input.tags) {
      if (!TAG_RE.test(tag.name)) {
        return SES_ERRORS.invalidParameter(`Invalid tag name <${tag.name}>: only alphanumeric ASCII characters, '_', and '-' are allowed.`);
      }
      const value = tag.value ?? '';
      if (!TAG_RE.test(value)) {
        return SES_ERRORS.invalidParameter(`Invalid tag value <${value}>: only alphanumeric ASCII characters, '_', and '-' are allowed.`);
      }
      tags[tag.name] = value;
    }
    if (input.configurationSet !== null && configurationSets && !configurationSets.has(input.configurationSet)) {
      return SES_ERRORS.configurationSetDoesNotExist(input.configurationSet);
    }
    const t = input.arrivedAt ?? now();
    // Quota before rate: a spent day is what SES reports even when also sending fast.
    if (usedLastDay(t) + destinations.length > max24HourSend) {
      throttledQuota++;
      return SES_ERRORS.quotaExceeded();
    }
    if (usedLastSecond(t) + destinations.length > maxSendRate) {
      throttledRate++;
      return SES_ERRORS.rateExceeded();
    }
    for (let i = 0; i < destinations.length; i++) {
      rateWindow.push(t);
      dayUsage.push(t);
      allRecipientTimes.push(t);
    }
    const mail: SimulatedMail = {
      messageId: messageIdFor(t),
      at: t,
      source,
      destinations,
      raw: keepRaw ? input.raw : Buffer.alloc(0),
      tags,
    };
    if (input.configurationSet !== null) mail.configurationSet = input.configurationSet;
    messages.push(mail);
    if (notifyUrl && identity) publish({ ...mail, raw: input.raw });
    return mail;
  }

  function publish(mail: SimulatedMail): void {
    const target = notifyUrl!;
    const id = identity!;
    const task = (async () => {
      if (notifyDelayMs > 0) await sleep(notifyDelayMs);
      for (const n of notificationsFor(mail, ctx, format, policy, now())) {
        const envelope = signedNotification(n.payload, id, { topicArn, version: options.signatureVersion ?? '2' });
        const record: NotificationRecord = {
          type: n.type,
          recipients: n.recipients,
          messageId: mail.messageId,
          snsMessageId: envelope.MessageId,
          body: JSON.stringify(envelope),
          status: 'pending',
          attempts: 0,
        };
        notifications.push(record);
        // Per message in order (Send before its outcome), across messages bounded.
        await notifySlots.run(() => postNotification(target, record));
      }
    })().catch(() => undefined);
    inflight.add(task);
    void task.finally(() => inflight.delete(task));
  }

  async function postNotification(target: string, record: NotificationRecord): Promise<void> {
    for (let attempt = 1; attempt <= notifyAttempts; attempt++) {
      record.attempts = attempt;
      try {
        const res = await fetch(target, {
          method: 'POST',
          headers: {
            'content-type': 'text/plain; charset=UTF-8',
            'x-amz-sns-message-type': 'Notification',
            'x-amz-sns-message-id': record.snsMessageId,
            'x-amz-sns-topic-arn': topicArn,
            'x-amz-sns-subscription-arn': `${topicArn}:ses-simulator`,
            'user-agent': 'Amazon Simple Notification Service Agent',
          },
          body: record.body,
          signal: AbortSignal.timeout(5000),
        });
        record.httpStatus = res.status;
        await res.arrayBuffer().catch(() => undefined);
        // SNS treats 2xx as delivered, anything else (incl. 4xx) as a failure to retry.
        if (res.status >= 200 && res.status < 300) {
          record.status = 'delivered';
          return;
        }
      } catch {
        record.httpStatus = undefined;
      }
      if (attempt < notifyAttempts) await sleep(50 * 2 ** (attempt - 1));
    }
    record.status = 'failed';
  }

  function sendXml(res: ServerResponse, status: number, body: string, requestId: string): void {
    res.writeHead(status, {
      'content-type': 'text/xml',
      'x-amzn-requestid': requestId,
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrivedAt = now();
    const requestId = randomUUID();
    if (req.method === 'GET' && req.url?.startsWith('/_simulator/stats')) {
      const body = JSON.stringify(stats());
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
      return;
    }
    if (req.method !== 'POST') {
      sendXml(res, 404, errorResponseXml(SES_ERRORS.invalidAction(req.method ?? ''), requestId), requestId);
      return;
    }
    const params = parseForm(await readBody(req, 60 * 1024 * 1024));
    const action = params.get('Action') ?? '';
    let answer: { status: number; xml: string };
    const isSend = action === 'SendRawEmail' || action === 'SendEmail';
    let drop = false;
    if (isSend && dropNextCount > 0) {
      dropNextCount--;
      drop = true;
      answer = { status: 0, xml: '' };
    } else if (isSend && (failNextCount > 0 || (failProbability > 0 && Math.random() < failProbability))) {
      let status = failProbabilityStatus;
      if (failNextCount > 0) {
        failNextCount--;
        status = failNextStatus;
      }
      const err = SES_ERRORS.serverFault(status);
      countError(err.code);
      answer = { status, xml: errorResponseXml(err, requestId) };
    } else {
      const result = dispatch(action, params, arrivedAt);
      if ('code' in result) {
        countError(result.message === 'Daily message quota exceeded.' ? 'Throttling(quota)' : result.code);
        answer = { status: result.status, xml: errorResponseXml(result, requestId) };
      } else {
        answer = { status: 200, xml: queryResponseXml(action, result.resultXml, requestId) };
      }
    }
    if (latencyMs > 0) await sleep(latencyMs);
    if (isSend && holdProbability > 0 && Math.random() < holdProbability) {
      held++;
      await sleep(holdMs);
    }
    if (drop) {
      req.socket.destroy();
      return;
    }
    sendXml(res, answer.status, answer.xml, requestId);
  }

  function dispatch(action: string, params: FormParams, arrivedAt?: number): SesQueryError | { resultXml: string } {
    switch (action) {
      case 'SendRawEmail': {
        const data = params.get('RawMessage.Data');
        if (!data) return SES_ERRORS.invalidParameter('RawMessage.Data is required.');
        const mail = acceptSend({
          raw: Buffer.from(data, 'base64'),
          source: params.get('Source') ?? null,
          destinations: memberList(params, 'Destinations'),
          configurationSet: params.get('ConfigurationSetName') ?? null,
          tags: tagParams(params),
          arrivedAt,
        });
        return 'code' in mail ? mail : { resultXml: sendRawEmailResultXml(mail.messageId) };
      }
      case 'SendEmail': {
        // A minimal raw rendering of the structured message, so records look alike.
        const source = params.get('Source') ?? null;
        const to = memberList(params, 'Destination.ToAddresses');
        const cc = memberList(params, 'Destination.CcAddresses');
        const bcc = memberList(params, 'Destination.BccAddresses');
        const subject = params.get('Message.Subject.Data') ?? '';
        const text = params.get('Message.Body.Text.Data') ?? params.get('Message.Body.Html.Data') ?? '';
        const lines = [source ? `From: ${source}` : '', to.length ? `To: ${to.join(', ')}` : '', cc.length ? `Cc: ${cc.join(', ')}` : ''];
        const raw = Buffer.from(`${lines.filter(Boolean).join('\r\n')}\r\nSubject: ${subject}\r\n\r\n${text}`);
        const mail = acceptSend({
          raw,
          source,
          destinations: [...to, ...cc, ...bcc],
          configurationSet: params.get('ConfigurationSetName') ?? null,
          tags: tagParams(params),
          arrivedAt,
        });
        return 'code' in mail ? mail : { resultXml: sendRawEmailResultXml(mail.messageId) };
      }
      case 'GetSendQuota':
        return {
          resultXml: getSendQuotaResultXml({ max24HourSend, maxSendRate, sentLast24Hours: usedLastDay(now()) }),
        };
      default:
        return SES_ERRORS.invalidAction(action);
    }
  }

  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const requestId = randomUUID();
      if (!res.headersSent) {
        sendXml(res, 400, errorResponseXml(SES_ERRORS.invalidParameter(String(err)), requestId), requestId);
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';

  function countsByRecipient(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const m of messages) {
      for (const d of m.destinations) {
        const key = (extractAddresses(d)[0] ?? d).toLowerCase();
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    return counts;
  }

  function duplicates(): string[] {
    return [...countsByRecipient()].filter(([, n]) => n > 1).map(([a]) => a);
  }

  function worstWindow(windowMs = 1000): number {
    // An injected clock may step backwards; the scan needs ascending times.
    let sorted = true;
    for (let i = 1; i < allRecipientTimes.length && sorted; i++) sorted = allRecipientTimes[i - 1]! <= allRecipientTimes[i]!;
    return worstSlidingWindow(sorted ? allRecipientTimes : [...allRecipientTimes].sort((a, b) => a - b), windowMs);
  }

  function stats(): SesSimulatorStats {
    let recipients = 0;
    for (const m of messages) recipients += m.destinations.length;
    return {
      accepted: messages.length,
      recipients,
      throttledRate,
      throttledQuota,
      errors: { ...errors },
      worstSecond: worstWindow(1000),
      duplicateRecipients: duplicates().length,
      notificationsDelivered: notifications.filter((n) => n.status === 'delivered').length,
      notificationsFailed: notifications.filter((n) => n.status === 'failed').length,
      notificationsPending: inflight.size,
    };
  }

  return {
    url: `http://${host}:${port}`,
    port,
    messages,
    notifications,
    get signingIdentity() {
      return identity;
    },
    topicArn,
    setMaxSendRate(rate) {
      maxSendRate = rate;
    },
    setQuota(max) {
      max24HourSend = max;
    },
    resetDailyUsage() {
      dayUsage = [];
      dayHead = 0;
    },
    setPaused(p) {
      paused = p;
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    failNext(n, status = 500) {
      failNextCount = n;
      failNextStatus = status;
    },
    dropNext(n) {
      dropNextCount = n;
    },
    injectFailures({ probability, status = 500 }) {
      failProbability = probability;
      failProbabilityStatus = status;
    },
    holdResponses({ probability, ms }) {
      holdProbability = probability;
      holdMs = ms;
    },
    heldCount() {
      return held;
    },
    rejectRecipient(address) {
      rejects.add(address.toLowerCase());
    },
    async setNotifyUrl(url) {
      notifyUrl = url;
      if (url && !identity) identity = await createSnsSigningIdentity();
    },
    certs() {
      return identity ? { [identity.certUrl]: identity.certPem } : {};
    },
    countsByRecipient,
    duplicates,
    worstWindow,
    throttleCount() {
      return throttledRate + throttledQuota;
    },
    stats,
    async flushNotifications(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (inflight.size > 0 && Date.now() < deadline) {
        await Promise.race([Promise.allSettled([...inflight]), sleep(Math.max(1, deadline - Date.now()))]);
      }
    },
    reset() {
      messages.length = 0;
      notifications.length = 0;
      rateWindow = [];
      rateHead = 0;
      dayUsage = [];
      dayHead = 0;
      allRecipientTimes = [];
      throttledRate = 0;
      throttledQuota = 0;
      errors = {};
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await Promise.allSettled([...inflight]);
    },
  };
}
