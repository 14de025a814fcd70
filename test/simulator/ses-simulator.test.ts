/**
 * The simulator's own contract: sliding-second rate and rolling 24-hour quota
 * (driven by an injected clock), the record and its stats, and the mailbox
 * simulator addresses posting SNS-signed notifications that verify against the
 * signing certificate and carry the message tags, shaped like AWS's examples.
 */
import { createVerify } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { snsSignatureAlgorithm, snsStringToSign, type SnsEnvelope } from '../../src/events/sns-message.js';
import { SesTransport } from '../../src/ses/ses-transport.js';
import { SesSendError } from '../../src/ses/ses-error.js';
import { mailboxOutcome, extractAddresses } from '../../src/simulator/mailbox-simulator.js';
import { parseForm, startSesSimulator, worstSlidingWindow, type SesSimulator } from '../../src/simulator/ses-simulator.js';
import { createSnsSigningIdentity, type SnsSigningIdentity } from '../../src/simulator/sns-signer.js';

// Notification payloads are deep JSON read field by field in assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Payload = Record<string, any>;

// shared/ sits beside the checkout (as on the team's machines and in CI); a user's fresh clone has none.
const FIXTURES = join(import.meta.dirname, '../../../shared/fixtures/ses/aws-docs-examples.json');
if (!existsSync(FIXTURES)) console.warn(`skipping the AWS documentation payload test: ${FIXTURES} is absent`);

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver; `answer` decides each status (default 200). */
async function receiver(answer: (n: number) => number = () => 200): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  let n = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(answer(++n)).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/ses`, received, server };
}

function verifies(envelope: SnsEnvelope, certPem: string): boolean {
  const algorithm = snsSignatureAlgorithm(envelope.SignatureVersion);
  const toSign = snsStringToSign(envelope as unknown as Record<string, unknown>);
  if (!algorithm || !toSign) return false;
  return createVerify(algorithm).update(toSign, 'utf8').verify(certPem, envelope.Signature, 'base64');
}

const raw = (to: string) =>
  Buffer.from(`From: Editor <editor@example.com>\r\nTo: ${to}\r\nSubject: Issue 7\r\nMessage-ID: <m-${to}>\r\n\r\nHi\r\n`);

let sim: SesSimulator | undefined;
let transport: SesTransport | undefined;
const servers: Server[] = [];
let identity: SnsSigningIdentity | undefined;
async function sharedIdentity(): Promise<SnsSigningIdentity> {
  identity ??= await createSnsSigningIdentity();
  return identity;
}

afterEach(async () => {
  transport?.destroy();
  await sim?.close();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  sim = undefined;
  transport = undefined;
});

describe('form parsing', () => {
  it('decodes like URLSearchParams, including + and malformed escapes', () => {
    for (const body of ['a=1&b=x%2By+z&a=2', 'RawMessage.Data=QUJD%2B%2F%3D&Source=a%40b.c', 'k=%E0%A4%A&x', '&&=v&k']) {
      const ours = parseForm(body);
      const theirs = new URLSearchParams(body);
      for (const key of new Set(theirs.keys())) expect(ours.get(key), `${body} ${key}`).toBe(theirs.get(key));
      expect(ours.size).toBe(new Set(theirs.keys()).size);
    }
  });
});

describe('rate and quota windows', () => {
  it('worstSlidingWindow counts the most events in any window of the given width', () => {
    expect(worstSlidingWindow([])).toBe(0);
    // A fixed-second view would see 2 + 2; the sliding second 900..1899 holds 4.
    expect(worstSlidingWindow([100, 900, 950, 1100, 1200, 1950])).toBe(4);
    expect(worstSlidingWindow([0, 1000, 2000])).toBe(1);
    expect(worstSlidingWindow([0, 999])).toBe(2);
  });

  it('throttles on a sliding second, not a fixed one, and frees the rate as the window slides', async () => {
    let t = 10_000;
    sim = await startSesSimulator({ maxSendRate: 3, now: () => t });
    transport = new SesTransport({ region: 'us-east-1', endpoint: sim.url });
    const send = (to: string) => transport!.sendRaw({ raw: raw(to), from: 'editor@example.com', to });
    t = 10_900;
    for (const i of [1, 2, 3]) await send(`a${i}@example.com`);
    // 10_100..11_100 is a new "fixed" second, but the sliding second still holds three.
    t = 11_100;
    await expect(send('b1@example.com')).rejects.toMatchObject({ classification: { kind: 'rate-throttled' } });
    t = 11_900; // 10_900 is now exactly one second ago: out of the window
    for (const i of [1, 2, 3]) await send(`c${i}@example.com`);
    await expect(send('c4@example.com')).rejects.toBeInstanceOf(SesSendError);
    expect(sim.messages).toHaveLength(6);
    expect(sim.worstWindow()).toBe(3);
    expect(sim.throttleCount()).toBe(2);
  });

  it('counts recipients against the rate and the rolling 24-hour quota', async () => {
    let t = 1_000_000;
    sim = await startSesSimulator({ maxSendRate: 10, max24HourSend: 4, now: () => t });
    transport = new SesTransport({ region: 'us-east-1', endpoint: sim.url });
    await transport.sendRaw({ raw: raw('x@example.com'), from: 'editor@example.com', to: ['x@example.com', 'y@example.com', 'z@example.com'] });
    expect(await transport.getSendQuota()).toEqual({ max24HourSend: 4, maxSendRate: 10, sentLast24Hours: 3 });
    t += 60_000;
    await expect(
      transport.sendRaw({ raw: raw('p@example.com'), from: 'editor@example.com', to: ['p@example.com', 'q@example.com'] }),
    ).rejects.toMatchObject({ classification: { kind: 'quota-exceeded' } });
    t += 24 * 3600 * 1000; // the first send has rolled out of the day
    await transport.sendRaw({ raw: raw('p@example.com'), from: 'editor@example.com', to: ['p@example.com', 'q@example.com'] });
    expect(sim.countsByRecipient().get('q@example.com')).toBe(1);
    expect(sim.stats()).toMatchObject({ accepted: 2, recipients: 5, throttledQuota: 1, duplicateRecipients: 0 });
  });

  it('reports duplicates per recipient (case-insensitive) and resets', async () => {
    sim = await startSesSimulator({ maxSendRate: 100 });
    transport = new SesTransport({ region: 'us-east-1', endpoint: sim.url });
    for (const to of ['a@example.com', 'A@Example.com', 'b@example.com']) await transport.sendRaw({ raw: raw(to), from: 'e@example.com', to });
    expect(sim.duplicates()).toEqual(['a@example.com']);
    sim.reset();
    expect(sim.messages).toHaveLength(0);
    expect(sim.worstWindow()).toBe(0);
  });

  it('derives destinations from To/Cc when none are given, and answers SES XML errors to raw HTTP', async () => {
    sim = await startSesSimulator({ maxSendRate: 100 });
    const body = new URLSearchParams({
      Action: 'SendRawEmail',
      Version: '2010-12-01',
      'RawMessage.Data': Buffer.from('From: "Doe, J" <j@example.com>\r\nTo: "X, Y" <x@example.com>, y@example.com\r\nCc: z@example.com\r\n\r\nb').toString('base64'),
    });
    const ok = await fetch(sim.url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/<SendRawEmailResponse xmlns="http:\/\/ses\.amazonaws\.com\/doc\/2010-12-01\/">\s*<SendRawEmailResult>\s*<MessageId>/);
    expect(sim.messages[0]!.destinations).toEqual(['x@example.com', 'y@example.com', 'z@example.com']);
    expect(sim.messages[0]!.source).toBe('"Doe, J" <j@example.com>');
    sim.setMaxSendRate(0);
    const throttled = await fetch(sim.url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(throttled.status).toBe(400);
    expect(await throttled.text()).toMatch(
      /<ErrorResponse[^>]*>\s*<Error>\s*<Type>Sender<\/Type>\s*<Code>Throttling<\/Code>\s*<Message>Maximum sending rate exceeded\.<\/Message>\s*<\/Error>\s*<RequestId>[^<]+<\/RequestId>\s*<\/ErrorResponse>/,
    );
  });
});

describe('other requests', () => {
  it('rejects tags SES would reject, and accepts SendEmail like SendRawEmail', async () => {
    sim = await startSesSimulator({ maxSendRate: 100 });
    const body = new URLSearchParams({
      Action: 'SendRawEmail',
      'RawMessage.Data': Buffer.from('From: e@example.com\r\nTo: r@example.com\r\n\r\nb').toString('base64'),
      'Tags.member.1.Name': 'campaign',
      'Tags.member.1.Value': 'not allowed!',
    });
    const res = await fetch(sim.url, { method: 'POST', body });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('<Code>InvalidParameterValue</Code>');
    const client = new SESClient({ endpoint: sim.url, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    try {
      const out = await client.send(
        new SendEmailCommand({
          Source: 'e@example.com',
          Destination: { ToAddresses: ['to@example.com'], BccAddresses: ['bcc@example.com'] },
          Message: { Subject: { Data: 'Hi' }, Body: { Text: { Data: 'Body' } } },
          Tags: [{ Name: 'campaign', Value: 'c1' }],
        }),
      );
      expect(sim.messages).toHaveLength(1);
      expect(sim.messages[0]).toMatchObject({ messageId: out.MessageId, destinations: ['to@example.com', 'bcc@example.com'], tags: { campaign: 'c1' } });
      expect(sim.messages[0]!.raw.toString()).toContain('Subject: Hi');
    } finally {
      client.destroy();
    }
  });
});

describe('mailbox simulator notifications', () => {
  it('maps simulator addresses, +tags included, and nothing else', () => {
    expect(mailboxOutcome('bounce@simulator.amazonses.com')).toBe('bounce');
    expect(mailboxOutcome('Complaint+c1-s9@Simulator.AmazonSES.com')).toBe('complaint');
    expect(mailboxOutcome('"Reader" <ooto+x@simulator.amazonses.com>')).toBe('ooto');
    expect(mailboxOutcome('bounce@example.com')).toBeNull();
    expect(mailboxOutcome('other@simulator.amazonses.com')).toBeNull();
    expect(extractAddresses('"Doe, <J>" <j@x.org>, k@y.org')).toEqual(['j@x.org', 'k@y.org']);
  });

  it('posts SNS-signed Send + outcome events with the tags, verifiable against the certificate', async () => {
    const hook = await receiver();
    servers.push(hook.server);
    sim = await startSesSimulator({ maxSendRate: 100, notifyUrl: hook.url, signingIdentity: await sharedIdentity() });
    transport = new SesTransport({ region: 'us-east-1', endpoint: sim.url, configurationSet: 'events' });
    const sent = new Map<string, string>();
    for (const to of [
      'success@simulator.amazonses.com',
      'bounce+c1-s2@simulator.amazonses.com',
      'complaint@simulator.amazonses.com',
      'ooto@simulator.amazonses.com',
      'suppressionlist@simulator.amazonses.com',
      'reader@example.com',
    ]) {
      const { messageId } = await transport.sendRaw({ raw: raw(to), from: 'editor@example.com', to, tags: { campaign: 'c1', subscriber: to.split('@')[0]!.replace('+', '-') } });
      sent.set(messageId, to);
    }
    await sim.flushNotifications();
    const events: Array<{ type: string; to: string; msg: Payload }> = [];
    for (const r of hook.received) {
      expect(r.headers['content-type']).toBe('text/plain; charset=UTF-8');
      expect(r.headers['x-amz-sns-message-type']).toBe('Notification');
      expect(r.headers['x-amz-sns-topic-arn']).toBe(sim.topicArn);
      const envelope = JSON.parse(r.body) as SnsEnvelope;
      expect(r.headers['x-amz-sns-message-id']).toBe(envelope.MessageId);
      expect(verifies(envelope, sim.signingIdentity!.certPem)).toBe(true);
      // One byte changed: the signature no longer verifies.
      expect(verifies({ ...envelope, Message: envelope.Message.replace('"mail"', '"mail "') }, sim.signingIdentity!.certPem)).toBe(false);
      expect(envelope.SigningCertURL).toBe(sim.signingIdentity!.certUrl);
      expect(Object.keys(sim.certs())).toEqual([envelope.SigningCertURL]);
      const msg = JSON.parse(envelope.Message) as Payload;
      const to = sent.get(msg.mail.messageId)!;
      expect(to).toBeDefined();
      expect(msg.mail.tags).toMatchObject({ campaign: ['c1'], 'ses:configuration-set': ['events'] });
      expect(msg.mail.destination).toEqual([to]);
      events.push({ type: msg.eventType, to, msg });
    }
    const typesFor = (to: string) => events.filter((e) => e.to === to).map((e) => e.type);
    expect(typesFor('success@simulator.amazonses.com')).toEqual(['Send', 'Delivery']);
    expect(typesFor('bounce+c1-s2@simulator.amazonses.com')).toEqual(['Send', 'Bounce']);
    expect(typesFor('complaint@simulator.amazonses.com')).toEqual(['Send', 'Delivery', 'Complaint']);
    expect(typesFor('ooto@simulator.amazonses.com')).toEqual(['Send', 'Delivery']);
    expect(typesFor('suppressionlist@simulator.amazonses.com')).toEqual(['Send', 'Bounce']);
    expect(typesFor('reader@example.com')).toEqual(['Send']);
    const bounce = events.find((e) => e.type === 'Bounce' && e.to.startsWith('bounce'))!.msg;
    expect(bounce.bounce).toMatchObject({ bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [{ emailAddress: 'bounce+c1-s2@simulator.amazonses.com' }] });
    expect(bounce.mail.tags.subscriber).toEqual(['bounce-c1-s2']);
    const suppressed = events.find((e) => e.type === 'Bounce' && e.to.startsWith('suppression'))!.msg;
    expect(suppressed.bounce).toMatchObject({ bounceType: 'Permanent', bounceSubType: 'Suppressed' });
    const complaint = events.find((e) => e.type === 'Complaint')!.msg;
    expect(complaint.complaint.complainedRecipients).toEqual([{ emailAddress: 'complaint@simulator.amazonses.com' }]);
    expect(sim.stats()).toMatchObject({ notificationsDelivered: hook.received.length, notificationsFailed: 0, notificationsPending: 0 });
  });

  it.skipIf(!existsSync(FIXTURES))('payloads have every field of the AWS documentation examples (event and identity formats)', async () => {
    const fixtures = JSON.parse(readFileSync(FIXTURES, 'utf8')) as Array<{ kind: string; payload: Payload }>;
    const fixture = (kind: string) => fixtures.find((f) => f.kind === kind)!.payload;
    const keysOf = (o: Record<string, unknown>) => Object.keys(o).sort();
    for (const format of ['event', 'identity'] as const) {
      const hook = await receiver();
      servers.push(hook.server);
      sim = await startSesSimulator({ maxSendRate: 100, notifyUrl: hook.url, notificationFormat: format, signingIdentity: await sharedIdentity() });
      transport = new SesTransport({ region: 'us-east-1', endpoint: sim.url, configurationSet: 'events' });
      for (const to of ['bounce@simulator.amazonses.com', 'complaint@simulator.amazonses.com']) {
        await transport.sendRaw({ raw: raw(to), from: 'editor@example.com', to, tags: { campaign: 'c1' } });
      }
      await sim.flushNotifications();
      const got = new Map<string, Payload>();
      for (const r of hook.received) {
        const msg = JSON.parse((JSON.parse(r.body) as SnsEnvelope).Message) as Payload;
        got.set(msg.eventType ?? msg.notificationType, msg);
      }
      const pairs: Array<[string, string]> =
        format === 'event'
          ? [['Send', 'ses-event/Send'], ['Bounce', 'ses-event/Bounce'], ['Complaint', 'ses-event/Complaint'], ['Delivery', 'ses-event/Delivery']]
          : [['Bounce', 'ses-notification/bounce-with-dsn'], ['Complaint', 'ses-notification/complaint-with-feedback'], ['Delivery', 'ses-notification/delivery']];
      expect([...got.keys()].sort()).toEqual(pairs.map(([t]) => t).sort());
      for (const [type, kind] of pairs) {
        const ours = got.get(type)!;
        const theirs = fixture(kind);
        expect(keysOf(ours), `${format} ${type}`).toEqual(expect.arrayContaining(keysOf(theirs)));
        expect(keysOf(ours.mail), `${format} ${type} mail`).toEqual(expect.arrayContaining(keysOf(theirs.mail).filter((k) => k !== 'tags')));
        const detail = Object.keys(theirs).find((k) => k !== 'mail' && k !== 'eventType' && k !== 'notificationType')!;
        if (detail !== 'send') {
          expect(keysOf(ours[detail]), `${format} ${type} ${detail}`).toEqual(expect.arrayContaining(keysOf(theirs[detail]).filter((k) => k !== 'remoteMtaIp' || type !== 'Bounce')));
        }
        if (format === 'event') expect(ours.mail.tags.campaign).toEqual(['c1']);
        else expect(ours.mail.tags).toBeUndefined();
      }
      await sim.close();
      sim = undefined;
      transport.destroy();
      transport = undefined;
    }
  });

  it('bounds the number of notification POSTs in flight', async () => {
    let active = 0;
    let peak = 0;
    let count = 0;
    const server = createServer((req, res) => {
      active++;
      peak = Math.max(peak, active);
      req.resume();
      req.on('end', () =>
        setTimeout(() => {
          active--;
          count++;
          res.writeHead(200).end();
        }, 20),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    servers.push(server);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    sim = await startSesSimulator({ maxSendRate: 1000, notifyUrl: url, notifyConcurrency: 4, signingIdentity: await sharedIdentity() });
    transport = new SesTransport({ region: 'us-east-1', endpoint: sim.url });
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => transport!.sendRaw({ raw: raw(`success+${i}@simulator.amazonses.com`), from: 'e@example.com', to: `success+${i}@simulator.amazonses.com` })),
    );
    await sim.flushNotifications();
    expect(count).toBe(60); // Send + Delivery each
    expect(peak).toBeLessThanOrEqual(4);
    expect(peak).toBeGreaterThan(1);
  });

  it('retries a failing webhook a bounded number of times', async () => {
    const flaky = await receiver((n) => (n === 1 ? 500 : 200));
    const down = await receiver(() => 503);
    servers.push(flaky.server, down.server);
    sim = await startSesSimulator({ maxSendRate: 100, notifyUrl: flaky.url, sendEvents: false, notifyAttempts: 3, signingIdentity: await sharedIdentity() });
    transport = new SesTransport({ region: 'us-east-1', endpoint: sim.url });
    await transport.sendRaw({ raw: raw('success@simulator.amazonses.com'), from: 'e@example.com', to: 'success@simulator.amazonses.com' });
    await sim.flushNotifications();
    expect(flaky.received).toHaveLength(2);
    expect(sim.notifications[0]).toMatchObject({ type: 'Delivery', status: 'delivered', attempts: 2, httpStatus: 200 });
    // Both deliveries carried the same SNS MessageId (a receiver dedupes on it).
    expect(flaky.received[0]!.body).toBe(flaky.received[1]!.body);
    await sim.setNotifyUrl(down.url);
    await transport.sendRaw({ raw: raw('bounce@simulator.amazonses.com'), from: 'e@example.com', to: 'bounce@simulator.amazonses.com' });
    await sim.flushNotifications();
    expect(down.received).toHaveLength(3);
    expect(sim.notifications[1]).toMatchObject({ type: 'Bounce', status: 'failed', attempts: 3 });
  });
});
