/**
 * Contract between the SES simulator (send side) and the webhook's verifier and
 * parser (events side): what the simulator posts verifies with its certificate as a
 * preloaded SNS_CERTS entry, and parses into the events the store acts on, with the
 * ledger coordinates carried in the message tags.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSesNotification, type SesEvent } from '../../src/events/ses-notification.js';
import { PreloadedCertificateSource, verifySnsMessage } from '../../src/events/sns-verify.js';
import { SesTransport } from '../../src/ses/ses-transport.js';
import { startSesSimulator } from '../../src/simulator/ses-simulator.js';

const bodies: string[] = [];
const receiver = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => (body += c));
  req.on('end', () => {
    bodies.push(body);
    res.writeHead(200).end();
  });
});

afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

describe('simulator notifications → verifySnsMessage → parseSesNotification', () => {
  it('verifies and yields bounce / complaint / delivery / send events with campaign and subscriber ids', async () => {
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const sim = await startSesSimulator({ maxSendRate: 100, notifyUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/ses` });
    const transport = new SesTransport({ region: 'us-east-1', endpoint: sim.url, configurationSet: 'events' });
    const cases = [
      ['Bounce@simulator.amazonses.com', 11],
      ['complaint+x@simulator.amazonses.com', 12],
      ['suppressionlist@simulator.amazonses.com', 13],
      ['success@simulator.amazonses.com', 14],
    ] as const;
    try {
      for (const [to, subscriber] of cases) {
        const raw = Buffer.from(`From: e@example.com\r\nTo: ${to}\r\nSubject: s\r\n\r\nb`);
        await transport.sendRaw({ raw, from: 'e@example.com', to, tags: { campaign: '7', subscriber: String(subscriber) } });
      }
      await sim.flushNotifications();
      const options = { allowedTopicArns: [sim.topicArn], certificateSource: new PreloadedCertificateSource(sim.certs()) };
      const events: SesEvent[] = [];
      for (const body of bodies) {
        const envelope = await verifySnsMessage(body, options);
        events.push(...parseSesNotification(envelope.Message));
      }
      const summary = events.map((e) => `${e.type}:${e.email}:${e.campaignId}:${e.subscriberId}:${e.subtype ?? ''}:${e.bounceSubType ?? ''}`).sort();
      expect(summary).toEqual(
        [
          'send:bounce@simulator.amazonses.com:7:11::',
          'bounce:bounce@simulator.amazonses.com:7:11:Permanent:General',
          'send:complaint+x@simulator.amazonses.com:7:12::',
          'delivery:complaint+x@simulator.amazonses.com:7:12::',
          'complaint:complaint+x@simulator.amazonses.com:7:12:abuse:',
          'send:suppressionlist@simulator.amazonses.com:7:13::',
          'bounce:suppressionlist@simulator.amazonses.com:7:13:Permanent:Suppressed',
          'send:success@simulator.amazonses.com:7:14::',
          'delivery:success@simulator.amazonses.com:7:14::',
        ].sort(),
      );
      const ids = new Set(sim.messages.map((m) => m.messageId));
      expect(events.every((e) => e.sesMessageId !== null && ids.has(e.sesMessageId))).toBe(true);
      // A different topic is refused by the same verifier.
      await expect(verifySnsMessage(bodies[0]!, { ...options, allowedTopicArns: ['arn:aws:sns:us-east-1:1:other'] })).rejects.toThrow();
    } finally {
      transport.destroy();
      await sim.close();
    }
  });
});
