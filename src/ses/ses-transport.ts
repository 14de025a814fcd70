/**
 * The only code that talks to Amazon SES: send one raw MIME message, read the
 * account's quota. Errors come out classified (SesSendError) so the send job
 * can decide between retry, pause and fail without knowing SDK details.
 *
 * `maxAttempts: 1`: BullMQ owns retries; the SDK's own three Throttling
 * retries would hide back-pressure from the queue and multiply requests.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { GetSendQuotaCommand, SESClient, SendRawEmailCommand, type SESClientConfig } from '@aws-sdk/client-ses';
import type { Config } from '../config.js';
import { ClaimExpiredError, InputError } from '../errors.js';
import { SesSendError, classifySesError } from './ses-error.js';
import { createFormBase64Cache, formBase64Pieces, type FormBase64Cache } from './form-base64.js';

export interface SesTransportOptions {
  region: string;
  /** Set = a local SES (simulator, aws-ses-v2-local); unset = the real regional endpoint. */
  endpoint?: string;
  configurationSet?: string;
  /** Explicit credentials; default: the SDK's provider chain, or dummy ones for a local endpoint. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /**
   * Whether the environment names AWS credentials (AWS_ACCESS_KEY_ID or AWS_PROFILE, from the
   * config): then the SDK's provider chain is used even for a local endpoint.
   */
  environmentCredentials?: boolean;
  /** TCP connect timeout (ms); default 3,000. */
  connectionTimeoutMs?: number;
  /** Whole request/response timeout (ms); default 15,000 (SES_REQUEST_TIMEOUT_S). SES answers in well under a second. */
  requestTimeoutMs?: number;
  /** Sockets kept open to SES; default 256 (the worker concurrency is the real bound). */
  maxSockets?: number;
}

export interface SendRawInput {
  /** The MIME message, whole or in the message factory's pieces (BuiltMessage.parts; see sendBodyAsBytes). */
  raw: Buffer | readonly Buffer[];
  /** Envelope sender (SES `Source`); usually the message's From. */
  from: string;
  to: string | string[];
  /** Message tags (event publishing carries them back); values are sanitised for SES. */
  tags?: Record<string, string>;
}

export interface SendQuota {
  max24HourSend: number;
  maxSendRate: number;
  sentLast24Hours: number;
}

/** SES tag names and values allow only ASCII letters, digits, `_` and `-` (max 256). */
export function sanitizeSesTag(value: string): string {
  const clean = value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256);
  return clean === '' ? '_' : clean;
}

function noLineBreaks(what: string, value: string): string {
  // SES passes Source/Destinations into SMTP envelopes; a CR/LF there is an injection attempt.
  if (/[\r\n]/.test(value)) throw new InputError(`${what} contains a line break`);
  return value;
}

/** What the `sendRaw` call running in this async context asks of its HTTP request (see `sendRaw`). */
interface RequestGate {
  deadline?: number;
  startAt?: () => Promise<void>;
  /** The message in pieces, encoded into the request body by `sendBodyAsBytes` (RawMessage.Data is sent empty to the serializer). */
  rawParts?: readonly Buffer[];
}
const requestGate = new AsyncLocalStorage<RequestGate>();

/** `startAt` rejected: the request was never started. */
class GateFailed extends Error {
  constructor(override readonly cause: unknown) {
    super('the request gate failed', { cause });
  }
}

export class SesTransport {
  readonly client: SESClient;
  readonly configurationSet: string | undefined;

  constructor(options: SesTransportOptions) {
    this.configurationSet = options.configurationSet;
    const maxSockets = options.maxSockets ?? 256;
    const config: SESClientConfig = {
      region: options.region,
      maxAttempts: 1,
      // Resolve the middleware stack once per command class instead of on every send
      // (a measurable share of the per-message CPU). Only used for sends without options.
      cacheMiddleware: true,
      requestHandler: {
        connectionTimeout: options.connectionTimeoutMs ?? 3_000,
        requestTimeout: options.requestTimeoutMs ?? 15_000,
        // Without this the SDK only logs a warning when requestTimeout passes.
        throwOnRequestTimeout: true,
        httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
        httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
      },
    };
    if (options.endpoint) config.endpoint = options.endpoint;
    if (options.credentials) {
      config.credentials = options.credentials;
    } else if (options.endpoint && !options.environmentCredentials) {
      // A local SES accepts any signature; don't make users invent AWS credentials.
      config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    }
    this.client = new SESClient(config);
    reuseSigner(this.client);
    sendBodyAsBytes(this.client);
    gateSendRequests(this.client, options.requestTimeoutMs ?? 15_000);
  }

  static fromConfig(
    config: Pick<Config, 'SES_REGION' | 'SES_ENDPOINT' | 'SES_CONFIGURATION_SET'> & Partial<Pick<Config, 'AWS_ACCESS_KEY_ID' | 'AWS_PROFILE' | 'SES_REQUEST_TIMEOUT_S'>>,
    overrides: Partial<SesTransportOptions> = {},
  ): SesTransport {
    const environmentCredentials = config.AWS_ACCESS_KEY_ID !== undefined || config.AWS_PROFILE !== undefined;
    const options: SesTransportOptions = { region: config.SES_REGION, environmentCredentials, ...overrides };
    if (config.SES_ENDPOINT && options.endpoint === undefined) options.endpoint = config.SES_ENDPOINT;
    if (config.SES_CONFIGURATION_SET && options.configurationSet === undefined) options.configurationSet = config.SES_CONFIGURATION_SET;
    if (config.SES_REQUEST_TIMEOUT_S !== undefined && options.requestTimeoutMs === undefined) options.requestTimeoutMs = config.SES_REQUEST_TIMEOUT_S * 1000;
    return new SesTransport(options);
  }

  /**
   * Send one raw MIME message. Throws SesSendError (classified) on any failure.
   * `deadline` (epoch ms): the HTTP request is started only before it (checked at the last
   * moment, inside the SDK's request handler, after signing) and is abandoned (socket
   * destroyed, TimeoutError: maybe sent) when it comes; past it before the start, the call
   * throws ClaimExpiredError and nothing is sent. See workers/send-processor.ts.
   * `startAt`: awaited at that same last moment, before the deadline check (the processor's
   * rate-limit slot: the serialization and signing of the request happen before the slot, only
   * the request after it). It is awaited once per call (the client makes one attempt).
   */
  async sendRaw(
    input: SendRawInput,
    options: { abortSignal?: AbortSignal; deadline?: number; startAt?: () => Promise<void> } = {},
  ): Promise<{ messageId: string }> {
    const to = (Array.isArray(input.to) ? input.to : [input.to]).map((a) => noLineBreaks('recipient', a));
    const tags = Object.entries(input.tags ?? {}).map(([name, value]) => ({ Name: sanitizeSesTag(name), Value: sanitizeSesTag(value) }));
    // With the message in pieces, the body middleware writes the field (form-base64.ts).
    const [data, rawParts] = Buffer.isBuffer(input.raw) ? [input.raw, undefined] : [EMPTY, input.raw];
    const command = new SendRawEmailCommand({
      RawMessage: { Data: data },
      Source: noLineBreaks('from', input.from),
      Destinations: to,
      ...(this.configurationSet ? { ConfigurationSetName: this.configurationSet } : {}),
      ...(tags.length > 0 ? { Tags: tags } : {}),
    });
    try {
      // No options object at all unless needed: the SDK caches the middleware only for `send(command)`.
      // The deadline and the start gate travel in the async context instead, so they cost no cache miss.
      const send = () => (options.abortSignal ? this.client.send(command, { abortSignal: options.abortSignal }) : this.client.send(command));
      const gated = options.deadline !== undefined || options.startAt !== undefined || rawParts !== undefined;
      const out = await (gated ? requestGate.run({ deadline: options.deadline, startAt: options.startAt, rawParts }, send) : send());
      if (!out.MessageId) throw new Error('SES answered without a MessageId');
      return { messageId: out.MessageId };
    } catch (err) {
      if (err instanceof ClaimExpiredError) throw err;
      // The gate failed (the limiter's Redis): no request was started, so it is no SES error.
      if (err instanceof GateFailed) throw err.cause;
      throw new SesSendError(classifySesError(err), { cause: err });
    }
  }

  /**
   * The account's quota, or null if SES does not answer within `timeoutMs`
   * (aws-ses-v2-local never answers GetSendQuota; callers fall back to SEND_RATE).
   * Other failures throw SesSendError.
   */
  async getSendQuota(options: { timeoutMs?: number } = {}): Promise<SendQuota | null> {
    const timeoutMs = options.timeoutMs ?? 2_000;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      const out = await this.client.send(new GetSendQuotaCommand({}), { abortSignal: controller.signal });
      return {
        max24HourSend: out.Max24HourSend ?? 0,
        maxSendRate: out.MaxSendRate ?? 0,
        sentLast24Hours: out.SentLast24Hours ?? 0,
      };
    } catch (err) {
      if (timedOut) return null;
      const c = classifySesError(err);
      if (c.code === 'TimeoutError') return null;
      throw new SesSendError(c, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}

/**
 * The SDK's default SigV4 signer (no `signer` in the client config) is a function that builds a
 * new SignatureV4 for every request, from a copy of the whole client config (~45 properties):
 * about 20 µs and 6.5 KB of garbage per message (issue #15). What it builds depends only on
 * the client config, whose signing region and name the same function fixes on its first call,
 * and on the endpoint's auth scheme, which for one client and one endpoint does not change.
 * So the first signer it builds is kept and handed to every later request. Nothing else
 * changes: the signer still asks the client's credentials provider at each signing (expiring
 * credentials are refreshed as before) and still takes the skew-corrected date per request. A
 * failed first build is not kept.
 */
function reuseSigner(client: SESClient): void {
  const config = client.config as unknown as { signer: (authScheme?: unknown) => Promise<unknown> };
  const build = config.signer;
  let kept: Promise<unknown> | undefined;
  config.signer = (authScheme) => {
    kept ??= build(authScheme).catch((err: unknown) => {
      kept = undefined;
      throw err;
    });
    return kept;
  };
}

/**
 * The SDK serialises a SendRawEmail request into one form-encoded string (the message in
 * base64, URL-encoded: ~1.4× the MIME size) and hands that string on: the SigV4 signer copies
 * it into bytes to hash it, and Node's HTTP client prepends the header block to it and encodes
 * the result once more for the socket. Encoding it to bytes once, before signing, lets the
 * signer hash and the socket write those same bytes: two fewer copies of every message in
 * flight (issue #15, the worker's peak RSS). The body is ASCII, so its bytes, its length and
 * its signature are unchanged.
 *
 * A message handed over in pieces (`SendRawInput.raw` as a list, a campaign's messages) went to the
 * serializer with an empty RawMessage.Data: its field is written here from the pieces, whose
 * encodings are kept per piece (form-base64.ts), so no per-message base64 string is made.
 * The field must be there exactly once and empty, or nothing is sent.
 */
function sendBodyAsBytes(client: SESClient): void {
  const cache = createFormBase64Cache();
  client.middlewareStack.add(
    (next) => (args) => {
      const request = args.request as { body?: unknown; headers: Record<string, string> };
      if (typeof request.body !== 'string') return next(args);
      const rawParts = requestGate.getStore()?.rawParts;
      if (rawParts === undefined) {
        request.body = Buffer.from(request.body, 'utf8');
        return next(args);
      }
      const body = spliceRawMessage(request.body, rawParts, cache);
      for (const name of Object.keys(request.headers)) if (name.toLowerCase() === 'content-length') delete request.headers[name];
      request.headers['content-length'] = String(body.length);
      request.body = body;
      return next(args);
    },
    { step: 'build', name: 'newsletterBodyAsBytes' },
  );
}

const EMPTY = new Uint8Array(0);
const DATA_FIELD = '&RawMessage.Data=';

function spliceRawMessage(body: string, rawParts: readonly Buffer[], cache: FormBase64Cache): Buffer {
  const at = body.indexOf(DATA_FIELD);
  const end = at + DATA_FIELD.length;
  if (at < 0 || body.indexOf(DATA_FIELD, end) >= 0 || (end < body.length && body[end] !== '&')) {
    // Nothing was sent, and trying again would build the same body: fail the message.
    const message = 'SendRawEmail request body has no single empty RawMessage.Data field to fill';
    throw new SesSendError({ kind: 'permanent', code: 'RequestBodyUnfillable', message, maybeSent: false });
  }
  return Buffer.concat([Buffer.from(body.slice(0, end), 'utf8'), ...formBase64Pieces(rawParts, cache), Buffer.from(body.slice(end), 'utf8')]);
}

/**
 * Make the client's HTTP handler honour the start gate and the deadline of the `sendRaw` call
 * it serves. Both run after the SDK's middleware (endpoint, serialization, signing) and
 * immediately before the request is started: first the gate is awaited (the rate-limit slot),
 * then the deadline is checked and the request's own timeout is cut to what is left of it, so
 * no request is started after it nor waited for beyond it. Calls without either (GetSendQuota,
 * test copies) keep the configured timeout.
 */
function gateSendRequests(client: SESClient, requestTimeoutMs: number): void {
  const handler = client.config.requestHandler;
  const handle = handler.handle.bind(handler);
  type Args = Parameters<typeof handle>;
  const start = (deadline: number | undefined, request: Args[0], handlerOptions: Args[1]) => {
    if (deadline === undefined) return handle(request, handlerOptions);
    const now = Date.now();
    if (now >= deadline) return Promise.reject(new ClaimExpiredError('SendRawEmail', deadline, now));
    return handle(request, { ...handlerOptions, requestTimeout: Math.min(requestTimeoutMs, deadline - now) });
  };
  handler.handle = (request, handlerOptions = {}) => {
    const gate = requestGate.getStore();
    if (gate === undefined) return handle(request, handlerOptions);
    if (gate.startAt === undefined) return start(gate.deadline, request, handlerOptions);
    return gate.startAt().then(
      () => start(gate.deadline, request, handlerOptions),
      (err: unknown) => Promise.reject(new GateFailed(err)),
    );
  };
}
