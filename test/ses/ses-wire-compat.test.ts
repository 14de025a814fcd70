/**
 * Wire compatibility with aws-ses-v2-local (the SES the demo and docker-compose
 * use): our transport, through the real SDK, sends raw mail it stores, and our
 * quota lookup gives up on time because it never answers GetSendQuota.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SesTransport } from '../../src/ses/ses-transport.js';
import { resolveSendRate } from '../../src/ses/send-rate.js';

type StartServer = (config?: { host?: string; port?: number }) => Promise<Server>;

let server: Server;
let url: string;

beforeAll(async () => {
  // A CommonJS module whose server function is `exports.default`; from ESM that is the
  // module's `default`, possibly wrapped once more depending on the loader's interop.
  const mod = (await import('aws-ses-v2-local')) as unknown as { default: StartServer | { default: StartServer } };
  const start = typeof mod.default === 'function' ? mod.default : mod.default.default;
  server = await start({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('SesTransport against aws-ses-v2-local', () => {
  it('SendRawEmail: the message appears at GET /store under the returned id', async () => {
    const transport = new SesTransport({ region: 'us-east-1', endpoint: url, configurationSet: 'events' });
    try {
      const raw = Buffer.from(
        'From: Editor <editor@example.com>\r\nTo: reader@example.com\r\nSubject: Wire check \u2713\r\nMIME-Version: 1.0\r\n' +
          'Content-Type: text/plain; charset=utf-8\r\n\r\nHello from the pipeline\r\n',
      );
      const { messageId } = await transport.sendRaw({ raw, from: 'editor@example.com', to: 'reader@example.com', tags: { campaign: 'c1', subscriber: 's1' } });
      expect(messageId).toBeTruthy();
      const store = (await (await fetch(`${url}/store`)).json()) as {
        emails: Array<{ messageId: string; from: string; subject: string; destination: { to: string[] }; body: { text?: string } }>;
      };
      const mail = store.emails.find((e) => e.messageId === messageId);
      expect(mail).toBeDefined();
      expect(mail!.from).toContain('editor@example.com');
      expect(mail!.destination.to).toEqual(['reader@example.com']);
      expect(mail!.body.text).toContain('Hello from the pipeline');
    } finally {
      transport.destroy();
    }
  });

  it('GetSendQuota is never answered: getSendQuota returns null within its timeout', async () => {
    const transport = new SesTransport({ region: 'us-east-1', endpoint: url });
    try {
      const started = Date.now();
      // The simulator never answers: only the timeout can end the call (the test's own
      // timeout fails one that hangs). It does not give up before its timeout.
      expect(await transport.getSendQuota({ timeoutMs: 300 })).toBeNull();
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      // …so the pipeline falls back to 14/s unless SEND_RATE says otherwise.
      expect(await resolveSendRate({ SEND_RATE: undefined }, transport, { timeoutMs: 200 })).toMatchObject({ rate: 14, source: 'default' });
    } finally {
      transport.destroy();
    }
  });
});
