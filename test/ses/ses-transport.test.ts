/**
 * SesTransport with the real @aws-sdk/client-ses over HTTP against the strict
 * SES simulator: every error class SES (or the network) can produce comes out
 * with the classification the send pipeline steers by.
 */
import { createHash, createHmac } from 'node:crypto';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import { loadConfig } from '../../src/config.js';
import { startSesSimulator, type SesSimulator } from '../../src/simulator/ses-simulator.js';
import { SesSendError, classifySesError, type SesErrorClassification } from '../../src/ses/ses-error.js';
import { SesTransport, sanitizeSesTag } from '../../src/ses/ses-transport.js';
import { DEFAULT_SEND_RATE, resolveSendRate } from '../../src/ses/send-rate.js';
import { ClaimExpiredError } from '../../src/errors.js';
import { waitFor } from '../support/wait.js';

const raw = (to = 'reader@example.com') =>
  Buffer.from(`From: Editor <editor@example.com>\r\nTo: ${to}\r\nSubject: Issue 1\r\n\r\nHello\r\n`);

let sim: SesSimulator | undefined;
let transport: SesTransport | undefined;
afterEach(async () => {
  transport?.destroy();
  await sim?.close();
  sim = undefined;
  transport = undefined;
});

async function setup(options: Parameters<typeof startSesSimulator>[0] = {}, t: Partial<ConstructorParameters<typeof SesTransport>[0]> = {}) {
  sim = await startSesSimulator({ maxSendRate: 1000, ...options });
  transport = new SesTransport({ region: 'us-east-1', endpoint: sim.url, ...t });
  return { sim, transport };
}

async function failure(p: Promise<unknown>): Promise<SesErrorClassification> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SesSendError);
    return (err as SesSendError).classification;
  }
  throw new Error('expected the call to fail');
}

const send = (t: SesTransport, to = 'reader@example.com', tags: Record<string, string> = {}) =>
  t.sendRaw({ raw: raw(to), from: 'Editor <editor@example.com>', to, tags });

interface SignedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * SigV4 recomputed by hand (AWS's "Create a signed AWS API request"), independent of the SDK:
 * the access key id of the request if its Authorization header is the one its own date,
 * headers, body and the secret of that key give; throws otherwise.
 */
function verifySigV4(r: SignedRequest, secretOf: (accessKeyId: string) => string): string {
  const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(headers.authorization ?? '');
  if (!m) throw new Error(`not a SigV4 Authorization header: ${headers.authorization}`);
  const [, accessKeyId, day, region, service, signedHeaders, signature] = m as unknown as string[];
  const amzDate = headers['x-amz-date']!;
  if (!amzDate.startsWith(day!)) throw new Error(`scope day ${day} is not the request's date ${amzDate}`);
  const canonicalHeaders = signedHeaders!.split(';').map((name) => `${name}:${headers[name]!.trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonicalRequest = [r.method, r.path, '', canonicalHeaders, signedHeaders, sha256(r.body)].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = [day!, region!, service!, 'aws4_request'].reduce<string | Buffer>((k, part) => hmac(k, part), `AWS4${secretOf(accessKeyId!)}`);
  const expected = hmac(key, stringToSign).toString('hex');
  if (expected !== signature) throw new Error(`signature mismatch for ${accessKeyId} at ${amzDate}`);
  if (region !== 'us-east-1' || service !== 'ses') throw new Error(`scope ${scope}`);
  return accessKeyId!;
}

describe('SesTransport against the SES simulator (real SDK)', () => {
  it('sends raw MIME with configuration set and sanitised tags; the simulator records exactly what was accepted', async () => {
    const config = loadConfig({ SES_ENDPOINT: 'http://127.0.0.1:1', SES_CONFIGURATION_SET: 'newsletter-events' });
    sim = await startSesSimulator({ maxSendRate: 100, configurationSets: ['newsletter-events'] });
    transport = SesTransport.fromConfig(config, { endpoint: sim.url });
    const { messageId } = await send(transport, 'reader@example.com', { campaign: 'c-42', subscriber: 'sub 7/ü' });
    expect(messageId).toMatch(/^[0-9a-f]{16}-[0-9a-f-]{36}-000000$/);
    expect(sim.messages).toHaveLength(1);
    const m = sim.messages[0]!;
    expect(m.messageId).toBe(messageId);
    expect(m.destinations).toEqual(['reader@example.com']);
    expect(m.source).toBe('Editor <editor@example.com>');
    expect(m.configurationSet).toBe('newsletter-events');
    expect(m.tags).toEqual({ campaign: 'c-42', subscriber: 'sub_7__' });
    expect(m.raw.equals(raw())).toBe(true);
    expect(sanitizeSesTag('a.b@c d')).toBe('a_b_c_d');
    expect(sanitizeSesTag('')).toBe('_');
  });

  it('hands the HTTP handler the request body as bytes, signed and sent as they are (no per-message string copies)', async () => {
    const { transport: t, sim: s } = await setup();
    const handler = t.client.config.requestHandler;
    const handle = handler.handle.bind(handler);
    const bodies: unknown[] = [];
    handler.handle = (request, options) => {
      bodies.push(request.body);
      return handle(request, options);
    };
    await send(t);
    expect(bodies).toHaveLength(1);
    const body = bodies[0];
    expect(Buffer.isBuffer(body)).toBe(true);
    const form = new URLSearchParams((body as Buffer).toString('utf8'));
    expect(form.get('Action')).toBe('SendRawEmail');
    expect(Buffer.from(form.get('RawMessage.Data')!, 'base64').equals(raw())).toBe(true);
    expect(s.messages[0]!.raw.equals(raw())).toBe(true);
  });

  it('signs every request with one signer kept from the first, which still asks the credentials provider and dates each request', async () => {
    // Credentials that expire at once: the SDK asks the provider again for every request.
    let accessKeyId = 'AKIDFIRST';
    const credentials = async () => ({ accessKeyId, secretAccessKey: `secret-of-${accessKeyId}`, expiration: new Date(Date.now() + 1000) });
    const { transport: t, sim: s } = await setup({}, { credentials: credentials as never });
    const sent: SignedRequest[] = [];
    const handler = t.client.config.requestHandler;
    const handle = handler.handle.bind(handler);
    handler.handle = (request, options) => {
      sent.push({ method: request.method, path: request.path, headers: { ...request.headers }, body: request.body as Buffer });
      return handle(request, options);
    };
    await send(t);
    accessKeyId = 'AKIDSECOND';
    await send(t);
    await send(t);
    expect(s.messages).toHaveLength(3);
    // The signer the SDK builds (from a copy of the whole client config) is built once.
    const signerOf = (t.client.config as unknown as { signer: () => Promise<unknown> }).signer;
    expect(await signerOf()).toBe(await signerOf());
    // Each request carries a valid SigV4 signature, made with the credentials of its own time.
    expect(sent.map((r) => verifySigV4(r, (id) => `secret-of-${id}`))).toEqual(['AKIDFIRST', 'AKIDSECOND', 'AKIDSECOND']);
  });

  it('refuses CR/LF in envelope addresses before calling SES', async () => {
    const { transport: t, sim: s } = await setup();
    await expect(t.sendRaw({ raw: raw(), from: 'a@example.com\r\nBcc: x@evil.example', to: 'r@example.com' })).rejects.toThrow(/line break/);
    expect(s.messages).toHaveLength(0);
  });

  it('rate: over MaxSendRate → rate-throttled, one HTTP attempt each (maxAttempts 1), and the worst second stays at the rate', async () => {
    // The simulator's clock stands still: all six fall in one second however slowly they arrive.
    const { transport: t, sim: s } = await setup({ maxSendRate: 3, now: () => 1_000_000 });
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => send(t, `r${i}@example.com`)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(3);
    expect(failed).toHaveLength(3);
    for (const f of failed) {
      const c = classifySesError(f.reason);
      expect(c).toMatchObject({ kind: 'rate-throttled', code: 'Throttling', message: 'Maximum sending rate exceeded.', httpStatus: 400 });
      expect((f.reason as SesSendError).retryable).toBe(true);
    }
    // The SDK retries Throttling 3 times by default; with maxAttempts 1 SES saw each call once.
    expect(s.throttleCount()).toBe(3);
    expect(s.worstWindow()).toBe(3);
    expect(s.stats().throttledRate).toBe(3);
  });

  it('quota: a spent day → quota-exceeded; GetSendQuota reports usage; freed quota sends again', async () => {
    const { transport: t, sim: s } = await setup({ max24HourSend: 2, maxSendRate: 50 });
    await send(t, 'a@example.com');
    await send(t, 'b@example.com');
    const c = await failure(send(t, 'c@example.com'));
    expect(c).toMatchObject({ kind: 'quota-exceeded', code: 'Throttling', message: 'Daily message quota exceeded.' });
    expect(await t.getSendQuota({ timeoutMs: 2000 })).toEqual({ max24HourSend: 2, maxSendRate: 50, sentLast24Hours: 2 });
    s.resetDailyUsage();
    await send(t, 'c@example.com');
    expect(s.messages.map((m) => m.destinations[0])).toEqual(['a@example.com', 'b@example.com', 'c@example.com']);
    expect(s.stats().throttledQuota).toBe(1);
  });

  it('MessageRejected → rejected (not retryable); only that message is lost', async () => {
    const { transport: t, sim: s } = await setup({ rejectRecipients: ['blocked@example.com'] });
    const c = await failure(send(t, 'blocked@example.com'));
    expect(c.kind).toBe('rejected');
    expect(c.code).toBe('MessageRejected');
    await send(t, 'fine@example.com');
    expect(s.messages.map((m) => m.destinations[0])).toEqual(['fine@example.com']);
  });

  it('missing From, unknown configuration set → permanent', async () => {
    const { sim: s } = await setup({ configurationSets: ['exists'] });
    const client = new SESClient({ endpoint: s.url, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    try {
      const noFrom = await client
        .send(new SendRawEmailCommand({ RawMessage: { Data: Buffer.from('To: r@example.com\r\nSubject: x\r\n\r\nbody') } }))
        .catch((e: unknown) => e);
      expect(classifySesError(noFrom)).toMatchObject({ kind: 'permanent', code: 'InvalidParameterValue', message: "Missing required header 'From'." });
      // Source alone does not replace the header.
      const sourceOnly = await client
        .send(new SendRawEmailCommand({ Source: 'e@example.com', RawMessage: { Data: Buffer.from('To: r@example.com\r\n\r\nbody') } }))
        .catch((e: unknown) => e);
      expect(classifySesError(sourceOnly)).toMatchObject({ kind: 'permanent', code: 'InvalidParameterValue' });
    } finally {
      client.destroy();
    }
    const other = new SesTransport({ region: 'us-east-1', endpoint: s.url, configurationSet: 'missing' });
    try {
      const c = await failure(send(other));
      expect(c).toMatchObject({ kind: 'permanent', code: 'ConfigurationSetDoesNotExist' });
    } finally {
      other.destroy();
    }
    expect(s.messages).toHaveLength(0);
  });

  it('AccountSendingPausedException → account-paused', async () => {
    const { transport: t, sim: s } = await setup();
    s.setPaused(true);
    const c = await failure(send(t));
    expect(c).toMatchObject({ kind: 'account-paused', code: 'AccountSendingPausedException' });
    s.setPaused(false);
    await send(t);
    expect(s.messages).toHaveLength(1);
  });

  it('5xx → transient (retryable), then the next call succeeds', async () => {
    const { transport: t, sim: s } = await setup();
    s.failNext(2, 500);
    expect(await failure(send(t))).toMatchObject({ kind: 'transient', code: 'InternalFailure', httpStatus: 500 });
    expect(await failure(send(t))).toMatchObject({ kind: 'transient', httpStatus: 500 });
    s.failNext(1, 503);
    expect(await failure(send(t))).toMatchObject({ kind: 'transient', code: 'ServiceUnavailable', httpStatus: 503 });
    await send(t);
    expect(s.messages).toHaveLength(1);
    expect(s.stats().errors).toMatchObject({ InternalFailure: 2, ServiceUnavailable: 1 });
  });

  it('random 5xx injection fails about the requested share and stops when set to 0', async () => {
    const { transport: t, sim: s } = await setup();
    s.injectFailures({ probability: 1, status: 503 });
    expect(await failure(send(t))).toMatchObject({ kind: 'transient', code: 'ServiceUnavailable' });
    s.injectFailures({ probability: 0.5 });
    const results = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => send(t, `p${i}@example.com`)));
    const failed = results.filter((r) => r.status === 'rejected').length;
    expect(failed).toBeGreaterThan(10);
    expect(failed).toBeLessThan(50);
    expect(s.messages).toHaveLength(60 - failed);
    s.injectFailures({ probability: 0 });
    await send(t);
  });

  it('latency past the request timeout → transient and maybe-sent (SES did accept it)', async () => {
    const { transport: t, sim: s } = await setup({ latencyMs: 600 }, { requestTimeoutMs: 150 });
    // The answer comes 600 ms after the request: a client that did not give up at its
    // 150 ms timeout would get it and succeed, so failing at all is the timeout's doing.
    const c = await failure(send(t));
    expect(c.kind).toBe('transient');
    expect(c.maybeSent).toBe(true);
    // The uncertain case the pipeline reconciles from Send events: recorded although the client saw an error.
    expect(s.messages).toHaveLength(1);
  });

  it('a send deadline (claim lease end): past it nothing is started; before it, the request is cut off at it', async () => {
    const { transport: t, sim: s } = await setup({}, { requestTimeoutMs: 5000 });
    const input = { raw: raw(), from: 'editor@example.com', to: 'reader@example.com' };
    // Warm the client (credentials, endpoint) so the next call reaches the request handler quickly.
    await t.sendRaw(input);
    s.reset();
    // Past the deadline: refused inside the SDK's handler, before any request; SES saw nothing.
    await expect(t.sendRaw(input, { deadline: Date.now() - 1 })).rejects.toBeInstanceOf(ClaimExpiredError);
    expect(s.messages).toHaveLength(0);
    // Before it: sent, but the answer is waited for only until the deadline (not the 5 s timeout).
    s.setLatency(2000);
    const started = Date.now();
    const c = await failure(t.sendRaw(input, { deadline: Date.now() + 300 }));
    expect(Date.now() - started).toBeLessThan(1500);
    expect(c).toMatchObject({ kind: 'transient', maybeSent: true });
    expect(s.messages).toHaveLength(1);
  });

  it('a start gate (the rate-limit slot) is awaited after signing and before the request; the deadline is checked after it', async () => {
    const { transport: t, sim: s } = await setup({}, { requestTimeoutMs: 5000 });
    // Sees each request as it leaves the SDK's middleware (added before the first send: the stack is cached).
    let signature: string | undefined;
    t.client.middlewareStack.add(
      (next) => (args) => {
        signature = (args.request as { headers: Record<string, string> }).headers.authorization;
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'testSeesSignedRequest' },
    );
    const input = { raw: raw(), from: 'editor@example.com', to: 'reader@example.com' };
    await t.sendRaw(input);
    s.reset();
    signature = undefined;
    // The gate is reached with the request built and signed, and nothing goes out until it opens.
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const signedAtGate: Array<string | undefined> = [];
    const sending = t.sendRaw(input, {
      deadline: Date.now() + 10_000,
      startAt: async () => {
        signedAtGate.push(signature);
        await gate;
      },
    });
    await waitFor('the gate to be reached', async () => signedAtGate.length === 1, 10_000, 5);
    expect(signedAtGate[0]).toMatch(/^AWS4-HMAC-SHA256 /);
    await new Promise((r) => setTimeout(r, 100));
    expect(s.messages).toHaveLength(0);
    open();
    await expect(sending).resolves.toMatchObject({ messageId: expect.any(String) });
    expect(s.messages).toHaveLength(1);
    expect(signedAtGate).toHaveLength(1);

    // A gate that opens after the deadline (a claim whose lease ran out while it waited): nothing is started.
    s.reset();
    await expect(t.sendRaw(input, { deadline: Date.now() + 50, startAt: () => new Promise((r) => setTimeout(r, 150)) })).rejects.toBeInstanceOf(
      ClaimExpiredError,
    );
    // A gate that fails (the limiter's Redis): its own error, not an SES error; nothing is started.
    const redisDown = new Error('limiter unreachable');
    await expect(t.sendRaw(input, { deadline: Date.now() + 10_000, startAt: () => Promise.reject(redisDown) })).rejects.toBe(redisDown);
    expect(s.messages).toHaveLength(0);
  });

  it('a message handed over in pieces is sent as the same request body, signed, as the whole message', async () => {
    const { transport: t, sim: s } = await setup();
    const bodies: Buffer[] = [];
    t.client.middlewareStack.add(
      (next) => (args) => {
        const request = args.request as { body: Buffer; headers: Record<string, string> };
        bodies.push(request.body);
        expect(request.headers['content-length']).toBe(String(request.body.length));
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'testSeesBody' },
    );
    // What the SDK's serializer is given to base64-encode: the whole message, or nothing.
    const serialized: number[] = [];
    t.client.middlewareStack.add(
      (next) => (args) => {
        serialized.push((args.input as { RawMessage: { Data: Uint8Array } }).RawMessage.Data.length);
        return next(args);
      },
      { step: 'initialize', name: 'testSeesInput' },
    );
    const whole = raw();
    // Cut anywhere: pieces of every length mod 3, one large one (kept encoded by the transport).
    const big = Buffer.concat([whole, Buffer.from('x'.repeat(3000))]);
    const pieces = [big.subarray(0, 7), big.subarray(7, 8), big.subarray(8, 2000), big.subarray(2000)];
    const input = { from: 'editor@example.com', to: 'reader@example.com', tags: { campaign: '7' } };
    await t.sendRaw({ ...input, raw: big });
    await t.sendRaw({ ...input, raw: pieces });
    await t.sendRaw({ ...input, raw: pieces });
    // In pieces, the SDK encodes no message: the transport fills the field from the pieces.
    expect(serialized).toEqual([big.length, 0, 0]);
    expect(bodies).toHaveLength(3);
    expect(bodies[1]!.equals(bodies[0]!)).toBe(true);
    expect(bodies[2]!.equals(bodies[0]!)).toBe(true);
    expect(s.messages.map((m) => m.raw.equals(big))).toEqual([true, true, true]);
  });

  it('a connection dropped mid-request → transient, maybe-sent', async () => {
    const { transport: t, sim: s } = await setup();
    s.dropNext(1);
    const c = await failure(send(t));
    expect(c).toMatchObject({ kind: 'transient', code: 'ECONNRESET', maybeSent: true });
  });

  it('connection refused → transient, definitely not sent', async () => {
    // A port that was free a moment ago and has nobody listening.
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    transport = new SesTransport({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}` });
    const c = await failure(send(transport));
    expect(c).toMatchObject({ kind: 'transient', code: 'ECONNREFUSED', maybeSent: false });
    await expect(transport.getSendQuota({ timeoutMs: 1000 })).rejects.toBeInstanceOf(SesSendError);
  });
});

describe('resolveSendRate', () => {
  it('SEND_RATE wins without asking SES; else MaxSendRate; else 14 when SES does not answer', async () => {
    const { transport: t, sim: s } = await setup({ maxSendRate: 37 });
    let asked = 0;
    const counting = { getSendQuota: (o: { timeoutMs?: number }) => (asked++, t.getSendQuota(o)) };
    expect(await resolveSendRate({ SEND_RATE: 200 }, counting)).toEqual({ rate: 200, source: 'config' });
    expect(asked).toBe(0);
    expect(await resolveSendRate({ SEND_RATE: undefined }, counting)).toEqual({ rate: 37, source: 'ses' });
    expect(asked).toBe(1);
    s.setLatency(400);
    const slow = await resolveSendRate({ SEND_RATE: undefined }, t, { timeoutMs: 100 });
    expect(slow).toMatchObject({ rate: DEFAULT_SEND_RATE, source: 'default' });
  });
});

describe('classifySesError on shapes the simulator does not produce', () => {
  const sdkError = (name: string, message = name, status = 400) =>
    Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: status } });

  it.each([
    ['MailFromDomainNotVerifiedException', 'permanent'],
    ['InvalidParameterValue', 'permanent'],
    ['ConfigurationSetSendingPausedException', 'account-paused'],
    ['InvalidClientTokenId', 'account-paused'],
    ['SomethingNew', 'permanent'],
  ] as const)('%s → %s', (name, kind) => {
    expect(classifySesError(sdkError(name)).kind).toBe(kind);
  });

  it('unknown 5xx names are transient; bare network errors by code; timeouts maybe-sent', () => {
    expect(classifySesError(Object.assign(sdkError('Weird', 'x', 502), { $fault: 'server' })).kind).toBe('transient');
    expect(classifySesError(Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT' }))).toMatchObject({ kind: 'transient', maybeSent: true });
    expect(classifySesError(Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' }))).toMatchObject({ kind: 'transient', maybeSent: false });
    expect(classifySesError(Object.assign(new Error('x'), { name: 'TimeoutError' }))).toMatchObject({ kind: 'transient', maybeSent: true });
  });
});
