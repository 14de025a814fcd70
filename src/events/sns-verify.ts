/**
 * Verification of Amazon SNS HTTP(S) messages. The webhook is public: nothing may
 * change state unless the envelope is well formed, comes from an allowed topic, names
 * a signing certificate on an Amazon SNS host, and its signature verifies against it.
 * Every check that needs no network runs before the certificate is asked for, so a
 * forged SigningCertURL can never make us fetch anything.
 */
import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { snsSignatureAlgorithm, snsStringToSign, type SnsEnvelope } from './sns-message.js';
import { ConfigError } from '../errors.js';

export type SnsVerificationReason =
  | 'malformed'
  | 'unsupported-signature-version'
  | 'invalid-cert-url'
  | 'topic-not-allowed'
  | 'certificate-unavailable'
  | 'bad-signature';

export class SnsVerificationError extends Error {
  readonly code = 'SNS_VERIFICATION';
  constructor(
    readonly reason: SnsVerificationReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SnsVerificationError';
  }
}

/** Where signing certificates come from. Implementations must only be called with a validated URL. */
export interface CertificateSource {
  getCertificate(url: string): Promise<string>;
}

export interface VerifySnsOptions {
  /** Topics we accept; empty accepts none. */
  allowedTopicArns: readonly string[];
  certificateSource: CertificateSource;
}

const SNS_HOST = /^sns\.[a-zA-Z0-9-]{3,}\.amazonaws\.com(\.cn)?$/;

/**
 * Whether `raw` is an https URL on an Amazon SNS host with no port, userinfo or
 * fragment. Query strings are allowed only when `allowQuery` (SubscribeURL carries one;
 * a SigningCertURL never does).
 */
export function isSnsHostUrl(raw: unknown, { allowQuery }: { allowQuery: boolean }): raw is string {
  if (typeof raw !== 'string' || raw.length > 2048) return false;
  // Reject raw characters the URL parser would silently normalise away (backslashes, whitespace, controls).
  // eslint-disable-next-line no-control-regex
  if (/[\s\\\u0000-\u001f\u007f]/.test(raw)) return false;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:') return false;
  if (url.username !== '' || url.password !== '' || raw.includes('@')) return false;
  if (url.port !== '') return false;
  // An explicit default port (":443") is dropped by the parser; reject it on the raw text.
  if (/^https:\/\/[^/]*:/i.test(raw)) return false;
  if (url.hash !== '' || raw.includes('#')) return false;
  if (!allowQuery && (url.search !== '' || raw.includes('?'))) return false;
  return SNS_HOST.test(url.hostname);
}

/** A SigningCertURL we are willing to fetch: SNS host rule, and a path ending in `.pem`. */
export function isValidSigningCertUrl(raw: unknown): raw is string {
  if (!isSnsHostUrl(raw, { allowQuery: false })) return false;
  return new URL(raw).pathname.endsWith('.pem');
}

// SigningCertURLs that passed isValidSigningCertUrl. The check is a pure function of the
// string, and real traffic names a handful of URLs, so remembering the valid ones (only
// those, bounded) spares two URL parses per message. Invalid URLs are never cached.
const validCertUrls = new Set<string>();
const VALID_CERT_URL_LIMIT = 64;

function isKnownValidSigningCertUrl(raw: unknown): raw is string {
  if (typeof raw === 'string' && validCertUrls.has(raw)) return true;
  if (!isValidSigningCertUrl(raw)) return false;
  if (validCertUrls.size >= VALID_CERT_URL_LIMIT) validCertUrls.delete(validCertUrls.values().next().value!);
  validCertUrls.add(raw);
  return true;
}

/** A SubscribeURL we are willing to GET to confirm a subscription. */
export function isValidSubscribeUrl(raw: unknown): raw is string {
  return isSnsHostUrl(raw, { allowQuery: true });
}

const STRING_FIELDS = ['Type', 'MessageId', 'TopicArn', 'Message', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL'] as const;
const OPTIONAL_STRING_FIELDS = ['Subject', 'Token', 'SubscribeURL', 'UnsubscribeURL'] as const;

/** Parse the raw body into an envelope shape, or throw `malformed`. No signature checks. */
export function parseSnsEnvelope(rawBody: string | Buffer): SnsEnvelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  } catch (cause) {
    throw new SnsVerificationError('malformed', 'body is not JSON', { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SnsVerificationError('malformed', 'body is not a JSON object');
  }
  const obj = parsed as Record<string, unknown>;
  for (const key of STRING_FIELDS) {
    if (typeof obj[key] !== 'string') throw new SnsVerificationError('malformed', `missing or non-string ${key}`);
  }
  for (const key of OPTIONAL_STRING_FIELDS) {
    if (obj[key] !== undefined && typeof obj[key] !== 'string') throw new SnsVerificationError('malformed', `non-string ${key}`);
  }
  if (obj.Type !== 'Notification' && obj.Type !== 'SubscriptionConfirmation' && obj.Type !== 'UnsubscribeConfirmation') {
    throw new SnsVerificationError('malformed', `unknown Type ${JSON.stringify(obj.Type).slice(0, 60)}`);
  }
  if (obj.Type !== 'Notification' && (typeof obj.SubscribeURL !== 'string' || typeof obj.Token !== 'string')) {
    throw new SnsVerificationError('malformed', `${obj.Type} without SubscribeURL or Token`);
  }
  if ((obj.MessageId as string).length === 0 || (obj.MessageId as string).length > 200) {
    throw new SnsVerificationError('malformed', 'MessageId empty or too long');
  }
  return obj as unknown as SnsEnvelope;
}

// Parsed public keys by PEM text: parsing a certificate costs more than verifying with it.
const keyCache = new Map<string, KeyObject>();
const KEY_CACHE_LIMIT = 64;

function publicKeyFor(pem: string): KeyObject {
  let key = keyCache.get(pem);
  if (!key) {
    key = createPublicKey(pem);
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.delete(keyCache.keys().next().value!);
    keyCache.set(pem, key);
  }
  return key;
}

/**
 * Verify a raw SNS POST body. Returns the envelope, or throws SnsVerificationError
 * naming why. Order: shape → signature version → cert URL → topic → certificate → signature.
 */
export async function verifySnsMessage(rawBody: string | Buffer, options: VerifySnsOptions): Promise<SnsEnvelope> {
  const envelope = parseSnsEnvelope(rawBody);
  const algorithm = snsSignatureAlgorithm(envelope.SignatureVersion);
  if (!algorithm) {
    throw new SnsVerificationError('unsupported-signature-version', `SignatureVersion ${JSON.stringify(envelope.SignatureVersion).slice(0, 20)} is not supported`);
  }
  if (!isKnownValidSigningCertUrl(envelope.SigningCertURL)) {
    throw new SnsVerificationError('invalid-cert-url', 'SigningCertURL is not an https .pem URL on an Amazon SNS host');
  }
  if (!options.allowedTopicArns.includes(envelope.TopicArn)) {
    throw new SnsVerificationError('topic-not-allowed', 'TopicArn is not in SNS_TOPIC_ARNS');
  }
  const toSign = snsStringToSign(envelope as unknown as Record<string, unknown>);
  if (toSign === null) throw new SnsVerificationError('malformed', 'envelope lacks fields needed for its string to sign');

  let pem: string;
  try {
    pem = await options.certificateSource.getCertificate(envelope.SigningCertURL);
  } catch (cause) {
    throw new SnsVerificationError('certificate-unavailable', 'signing certificate could not be obtained', { cause });
  }
  let ok = false;
  try {
    // One-shot verify: a createVerify() stream per message costs about as much as the RSA check.
    ok = verifySignature(algorithm, Buffer.from(toSign, 'utf8'), publicKeyFor(pem), Buffer.from(envelope.Signature, 'base64'));
  } catch (cause) {
    throw new SnsVerificationError('bad-signature', 'signature could not be checked', { cause });
  }
  if (!ok) throw new SnsVerificationError('bad-signature', 'signature does not verify');
  return envelope;
}

/* ------------------------------------------------------------------ certificate sources */

/** Certificates known in advance (SNS_CERTS, tests, the simulator): no network. */
export class PreloadedCertificateSource implements CertificateSource {
  private readonly certs: Map<string, string>;
  constructor(certs: Record<string, string> | Map<string, string>) {
    this.certs = certs instanceof Map ? new Map(certs) : new Map(Object.entries(certs));
  }
  has(url: string): boolean {
    return this.certs.has(url);
  }
  async getCertificate(url: string): Promise<string> {
    const pem = this.certs.get(url);
    if (pem === undefined) throw new Error(`no preloaded certificate for ${url}`);
    return pem;
  }
}

/** Read an SNS_CERTS file: a JSON object mapping certificate URL to PEM text. */
export function loadPreloadedCertificates(path: string): PreloadedCertificateSource {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new ConfigError(`SNS_CERTS: cannot read ${path} (${why}); point SNS_CERTS at a JSON file {certUrl: pem}, or unset it`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`SNS_CERTS ${path}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`SNS_CERTS ${path}: expected a JSON object {certUrl: pem}`);
  }
  const certs: Record<string, string> = {};
  for (const [url, pem] of Object.entries(parsed)) {
    if (typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new ConfigError(`SNS_CERTS ${path}: value for ${url} is not a PEM certificate`);
    }
    certs[url] = pem;
  }
  return new PreloadedCertificateSource(certs);
}

export interface HttpsCertificateSourceOptions {
  timeoutMs?: number;
  maxBytes?: number;
  fetch?: typeof fetch;
}

/** Fetches a certificate over HTTPS; refuses redirects, slow servers and oversized bodies. */
export class HttpsCertificateSource implements CertificateSource {
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly fetchImpl: typeof fetch;
  constructor(options: HttpsCertificateSourceOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxBytes = options.maxBytes ?? 64 * 1024;
    this.fetchImpl = options.fetch ?? fetch;
  }
  async getCertificate(url: string): Promise<string> {
    // Defence in depth: the verifier validated already, but this class must never fetch elsewhere.
    if (!isValidSigningCertUrl(url)) throw new Error('refusing to fetch a non-SNS certificate URL');
    const res = await this.fetchImpl(url, { redirect: 'error', signal: AbortSignal.timeout(this.timeoutMs) });
    if (!res.ok || !res.body) throw new Error(`certificate fetch answered ${res.status}`);
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > this.maxBytes) throw new Error('certificate too large');
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > this.maxBytes) throw new Error('certificate too large');
      chunks.push(chunk);
    }
    const pem = Buffer.concat(chunks).toString('utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('certificate response is not PEM');
    return pem;
  }
}

/**
 * Bounded LRU cache by URL in front of another source; concurrent requests for the same
 * URL share one lookup, and failures are not cached.
 */
export class CachingCertificateSource implements CertificateSource {
  private readonly entries = new Map<string, Promise<string>>();
  constructor(
    private readonly inner: CertificateSource,
    private readonly limit = 32,
  ) {}
  getCertificate(url: string): Promise<string> {
    const hit = this.entries.get(url);
    if (hit) {
      this.entries.delete(url);
      this.entries.set(url, hit);
      return hit;
    }
    const pending = this.inner.getCertificate(url);
    this.entries.set(url, pending);
    pending.catch(() => {
      if (this.entries.get(url) === pending) this.entries.delete(url);
    });
    while (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!);
    return pending;
  }
  get size(): number {
    return this.entries.size;
  }
}

/** Preloaded certificates first, then the fallback (normally HTTPS). */
export class ChainedCertificateSource implements CertificateSource {
  constructor(
    private readonly preloaded: PreloadedCertificateSource | undefined,
    private readonly fallback: CertificateSource,
  ) {}
  getCertificate(url: string): Promise<string> {
    if (this.preloaded?.has(url)) return this.preloaded.getCertificate(url);
    return this.fallback.getCertificate(url);
  }
}

/** The production certificate source for a config: SNS_CERTS, then a cached HTTPS fetch. */
export function createCertificateSource(config: { SNS_CERTS?: string | undefined }, fallback?: CertificateSource): CertificateSource {
  const preloaded = config.SNS_CERTS ? loadPreloadedCertificates(config.SNS_CERTS) : undefined;
  return new ChainedCertificateSource(preloaded, new CachingCertificateSource(fallback ?? new HttpsCertificateSource()));
}
