/**
 * Verification of Amazon SNS HTTP(S) messages. The webhook is public: nothing may
 * change state unless the envelope is well formed, comes from an allowed topic, names
 * a signing certificate on an Amazon SNS host, and its signature verifies against it.
 * Every check that needs no network runs before the certificate is asked for, so a
 * forged SigningCertURL can never make us fetch anything.
 */
import { verify as verifySignature, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { snsSignatureAlgorithm, snsStringToSign, type SnsEnvelope } from './sns-message.js';
import { ConfigError } from '../errors.js';

export type SnsVerificationReason =
  | 'malformed'
  | 'unsupported-signature-version'
  | 'invalid-cert-url'
  | 'topic-not-allowed'
  | 'bad-timestamp'
  | 'stale'
  | 'certificate-unavailable'
  | 'bad-certificate'
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
  /**
   * Oldest Timestamp accepted, in ms before `now` (SNS_MAX_AGE_S); 0 = no bound. Default
   * DEFAULT_SNS_MAX_AGE_S. Retries of one notification keep its Timestamp, and SNS stops
   * retrying an HTTP/S endpoint within 3,600 s, so nothing genuine is older than that.
   */
  maxAgeMs?: number;
  now?: () => number;
}

/**
 * SNS's retry window for HTTP/S endpoints is at most 3,600 s ("total policy retry time …
 * cannot be greater than 3,600 seconds. This is a hard limit", SNS developer guide,
 * message delivery retries); 300 s more for clock skew between SNS and us.
 */
export const DEFAULT_SNS_MAX_AGE_S = 3900;
/** A Timestamp this far in the future is refused too (clock skew, not a time machine). */
export const SNS_MAX_FUTURE_SKEW_MS = 300_000;

/**
 * An SNS endpoint host: `sns.<region>.amazonaws.com`, or `.amazonaws.com.cn` for the China
 * regions. The region is spelled like one (`us-east-1`, `us-gov-west-1`, `cn-north-1`), so
 * other services' hosts that start with `sns.` (S3's `sns.s3-external-1…`, a bucket named
 * `sns`) do not match.
 */
const SNS_HOST = /^sns\.(?:cn-[a-z]+-\d{1,2}\.amazonaws\.com\.cn|(?!cn-)[a-z]{2}(?:-gov)?-[a-z]+-\d{1,2}\.amazonaws\.com)$/;

/**
 * The certificate subjects (CN) SNS signs with, by certificate host: `sns.amazonaws.com`;
 * for the China regions `sns.amazonaws.com.cn` (or the global name, which only Amazon can
 * hold a certificate for either).
 */
export function expectedSnsCertificateSubjects(certUrl: string): readonly string[] {
  return new URL(certUrl).hostname.endsWith('.amazonaws.com.cn') ? ['sns.amazonaws.com.cn', 'sns.amazonaws.com'] : ['sns.amazonaws.com'];
}

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

/** The subject's common name(s) of a certificate (`CN=…` lines of X509Certificate.subject). */
function commonNames(cert: X509Certificate): string[] {
  return cert.subject.split('\n').filter((l) => l.startsWith('CN=')).map((l) => l.slice(3));
}

/**
 * The public key of a signing certificate, after checking it is one SNS would sign with:
 * a parseable X.509 certificate whose subject CN is one of `expectedSubjects`, within its
 * validity period. Throws `bad-certificate` naming what is wrong.
 */
export function snsSigningKey(pem: string, expectedSubjects: readonly string[], now = Date.now()): KeyObject {
  return checkedSigningCertificate(pem, expectedSubjects, now).publicKey;
}

function checkedSigningCertificate(pem: string, expectedSubjects: readonly string[], now: number): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (cause) {
    throw new SnsVerificationError('bad-certificate', 'signing certificate is not an X.509 certificate', { cause });
  }
  const names = commonNames(cert);
  if (names.length !== 1 || !expectedSubjects.includes(names[0]!)) {
    throw new SnsVerificationError('bad-certificate', `signing certificate subject CN is ${JSON.stringify(names.join(',')).slice(0, 80)}, not ${expectedSubjects.join(' or ')}`);
  }
  if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) {
    throw new SnsVerificationError('bad-certificate', `signing certificate is not valid now (valid ${cert.validFrom} to ${cert.validTo})`);
  }
  return cert;
}

// Checked public keys by subject and PEM text: parsing a certificate costs more than
// verifying with it. An entry is used only until the certificate's validTo.
const keyCache = new Map<string, { key: KeyObject; validTo: number }>();
const KEY_CACHE_LIMIT = 64;

function publicKeyFor(pem: string, expectedSubjects: readonly string[], now: number): KeyObject {
  const cacheKey = `${expectedSubjects.join(',')}\n${pem}`;
  const hit = keyCache.get(cacheKey);
  if (hit && now <= hit.validTo) return hit.key;
  const cert = checkedSigningCertificate(pem, expectedSubjects, now);
  if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.delete(keyCache.keys().next().value!);
  keyCache.set(cacheKey, { key: cert.publicKey, validTo: Date.parse(cert.validTo) });
  return cert.publicKey;
}

/**
 * Whether a Timestamp is within [now − maxAgeMs, now + skew]; throws `bad-timestamp` for a
 * Timestamp that is not a date and `stale` otherwise. maxAgeMs 0 = no bound.
 */
export function checkSnsTimestamp(timestamp: string, now: number, maxAgeMs: number): void {
  const at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(timestamp) ? Date.parse(timestamp) : NaN;
  if (Number.isNaN(at)) throw new SnsVerificationError('bad-timestamp', 'Timestamp is not an ISO 8601 UTC time');
  if (maxAgeMs <= 0) return;
  if (at < now - maxAgeMs) {
    throw new SnsVerificationError('stale', `Timestamp ${timestamp} is older than ${Math.round(maxAgeMs / 1000)} s (SNS_MAX_AGE_S)`);
  }
  if (at > now + SNS_MAX_FUTURE_SKEW_MS) throw new SnsVerificationError('stale', `Timestamp ${timestamp} is in the future`);
}

/**
 * Verify a raw SNS POST body. Returns the envelope, or throws SnsVerificationError
 * naming why. Order: shape → signature version → cert URL → topic → age → certificate
 * (fetched, then its subject checked) → signature.
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
  const now = options.now?.() ?? Date.now();
  checkSnsTimestamp(envelope.Timestamp, now, options.maxAgeMs ?? DEFAULT_SNS_MAX_AGE_S * 1000);
  const toSign = snsStringToSign(envelope as unknown as Record<string, unknown>);
  if (toSign === null) throw new SnsVerificationError('malformed', 'envelope lacks fields needed for its string to sign');

  let pem: string;
  try {
    pem = await options.certificateSource.getCertificate(envelope.SigningCertURL);
  } catch (cause) {
    throw new SnsVerificationError('certificate-unavailable', 'signing certificate could not be obtained', { cause });
  }
  const key = publicKeyFor(pem, expectedSnsCertificateSubjects(envelope.SigningCertURL), now);
  let ok = false;
  try {
    // One-shot verify: a createVerify() stream per message costs about as much as the RSA check.
    ok = verifySignature(algorithm, Buffer.from(toSign, 'utf8'), key, Buffer.from(envelope.Signature, 'base64'));
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
