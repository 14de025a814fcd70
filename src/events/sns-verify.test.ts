import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createSnsSigningIdentity, signedNotification, signSnsEnvelope, type SnsSigningIdentity } from '../simulator/sns-signer.js';
import { changeAt, docExamples, exampleTopics, positions, signedExample, signedFields, TEST_TOPIC } from '../../test/events/fixtures.js';
import {
  CachingCertificateSource,
  createCertificateSource,
  checkSnsTimestamp,
  DEFAULT_SNS_MAX_AGE_S,
  HttpsCertificateSource,
  isValidSigningCertUrl,
  isValidSubscribeUrl,
  PreloadedCertificateSource,
  SnsVerificationError,
  verifySnsMessage,
  type CertificateSource,
  type VerifySnsOptions,
} from './sns-verify.js';

let identity: SnsSigningIdentity;
let source: PreloadedCertificateSource;

beforeAll(async () => {
  identity = await createSnsSigningIdentity();
  source = new PreloadedCertificateSource({ [identity.certUrl]: identity.certPem });
});

const options = (): VerifySnsOptions => ({ allowedTopicArns: exampleTopics, certificateSource: source });

async function reason(body: string, opts = options()): Promise<string> {
  try {
    await verifySnsMessage(body, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(SnsVerificationError);
    return (err as SnsVerificationError).reason;
  }
  return 'accepted';
}

describe('verifySnsMessage', () => {
  it('has all 18 documentation examples to check', () => {
    expect(docExamples.length).toBe(18);
  });

  for (const version of ['1', '2'] as const) {
    it(`accepts every documentation example re-signed with SignatureVersion ${version}`, async () => {
      for (const example of docExamples) {
        const env = signedExample(example, identity, version);
        const verified = await verifySnsMessage(JSON.stringify(env), options());
        expect(verified.MessageId, example.kind).toBe(env.MessageId);
        expect(verified.Message).toBe(env.Message);
      }
    });

    it(`rejects every example (v${version}) with one byte changed in any signed field or the signature`, async () => {
      let checked = 0;
      for (const example of docExamples) {
        const env = signedExample(example, identity, version);
        for (const field of [...signedFields(env), 'Signature' as const]) {
          const value = env[field] as string;
          for (const i of positions(value.length, field === 'Message' ? 24 : 6)) {
            // Base64 padding changes can decode to the same bytes; mutate inside the data instead.
            if (field === 'Signature' && i >= value.length - 2) continue;
            const tampered = { ...env, [field]: changeAt(value, i) };
            expect(await reason(JSON.stringify(tampered)), `${example.kind} ${field}[${i}]`).not.toBe('accepted');
            checked++;
          }
        }
      }
      expect(checked).toBeGreaterThan(18 * 20);
    });
  }

  it('rejects SignatureVersion other than 1 and 2', async () => {
    const env = signedNotification({ a: 1 }, identity, { topicArn: TEST_TOPIC });
    for (const v of ['3', '0', '', 'RSA-SHA256']) {
      expect(await reason(JSON.stringify({ ...env, SignatureVersion: v }))).toBe('unsupported-signature-version');
    }
    expect(await reason(JSON.stringify({ ...env, SignatureVersion: 2 }))).toBe('malformed');
  });

  it('rejects a v1 signature presented as v2 and the reverse', async () => {
    const v1 = signedNotification({ a: 1 }, identity, { topicArn: TEST_TOPIC, version: '1' });
    expect(await reason(JSON.stringify({ ...v1, SignatureVersion: '2' }))).toBe('bad-signature');
    const v2 = signedNotification({ a: 1 }, identity, { topicArn: TEST_TOPIC, version: '2' });
    expect(await reason(JSON.stringify({ ...v2, SignatureVersion: '1' }))).toBe('bad-signature');
  });

  it('rejects malformed bodies', async () => {
    const env = signedNotification({ a: 1 }, identity, { topicArn: TEST_TOPIC });
    for (const body of ['', 'not json', '[]', 'null', '"x"', JSON.stringify({ ...env, Type: 'Other' }), JSON.stringify({ ...env, MessageId: undefined }), JSON.stringify({ ...env, Message: { a: 1 } })]) {
      expect(await reason(body), body.slice(0, 40)).toBe('malformed');
    }
  });

  it('accepts only topics in the allowlist; an empty allowlist accepts none', async () => {
    const env = signedNotification({ a: 1 }, identity, { topicArn: TEST_TOPIC });
    expect(await reason(JSON.stringify(env), { allowedTopicArns: ['arn:aws:sns:us-east-1:1:other'], certificateSource: source })).toBe('topic-not-allowed');
    expect(await reason(JSON.stringify(env), { allowedTopicArns: [], certificateSource: source })).toBe('topic-not-allowed');
    expect(await reason(JSON.stringify(env), { allowedTopicArns: [TEST_TOPIC], certificateSource: source })).toBe('accepted');
  });

  it('rejects a signature made with another key for the same certificate URL', async () => {
    const other = await createSnsSigningIdentity(identity.certUrl);
    const env = signedNotification({ a: 1 }, other, { topicArn: TEST_TOPIC });
    expect(await reason(JSON.stringify(env))).toBe('bad-signature');
  });

  const badCertUrls = [
    'https://sns.us-east-1.amazonaws.com.evil.example/x.pem',
    'https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-1.pem',
    'https://s3.amazonaws.com/bucket/SimpleNotificationService-1.pem',
    'https://examplebucket.s3.us-east-1.amazonaws.com/SimpleNotificationService-1.pem',
    'https://sns.us-east-1.evil.com/cert.pem',
    'https://evil.example/sns.us-east-1.amazonaws.com/cert.pem',
    'http://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem',
    'https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-1.pem',
    'https://sns.us-east-1.amazonaws.com:443/SimpleNotificationService-1.pem',
    'https://user:pass@sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem',
    'https://evil.example@sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem',
    'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem?x=1',
    'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem#frag',
    'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.txt',
    'https://sns.us-east-1.amazonaws.com/',
    'https://sns.us-east-1.amazonaws.com\\@evil.example/x.pem',
    'https://sns.a.amazonaws.com/x.pem',
    'ftp://sns.us-east-1.amazonaws.com/x.pem',
    '//sns.us-east-1.amazonaws.com/x.pem',
    'https://sns.us-east-1.amazonaws.com /x.pem',
  ];

  it('rejects certificate URLs off the SNS hosts before asking the certificate source', async () => {
    for (const url of badCertUrls) {
      const spy: CertificateSource = { getCertificate: vi.fn(async () => identity.certPem) };
      const env = signedNotification({ a: 1 }, { ...identity, certUrl: url }, { topicArn: TEST_TOPIC });
      expect(await reason(JSON.stringify(env), { allowedTopicArns: [TEST_TOPIC], certificateSource: spy }), url).toBe('invalid-cert-url');
      expect(spy.getCertificate, url).not.toHaveBeenCalled();
      expect(isValidSigningCertUrl(url), url).toBe(false);
    }
  });

  it('accepts SNS hosts in commercial and China regions', () => {
    expect(isValidSigningCertUrl('https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem')).toBe(true);
    expect(isValidSigningCertUrl('https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-1.pem')).toBe(true);
    expect(isValidSubscribeUrl('https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=a&Token=b')).toBe(true);
    expect(isValidSubscribeUrl('https://sns.us-west-2.amazonaws.com.evil.example/?Action=ConfirmSubscription')).toBe(false);
    expect(isValidSubscribeUrl('http://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription')).toBe(false);
  });

  it('does not fetch when the topic is not allowed', async () => {
    const spy: CertificateSource = { getCertificate: vi.fn(async () => identity.certPem) };
    const env = signedNotification({ a: 1 }, identity, { topicArn: TEST_TOPIC });
    expect(await reason(JSON.stringify(env), { allowedTopicArns: [], certificateSource: spy })).toBe('topic-not-allowed');
    expect(spy.getCertificate).not.toHaveBeenCalled();
  });

  it('reports an unobtainable certificate as certificate-unavailable', async () => {
    const env = signedNotification({ a: 1 }, { ...identity, certUrl: 'https://sns.eu-west-1.amazonaws.com/unknown.pem' }, { topicArn: TEST_TOPIC });
    expect(await reason(JSON.stringify(env))).toBe('certificate-unavailable');
  });

  it('verifies SubscriptionConfirmation envelopes over Token and SubscribeURL', async () => {
    const example = docExamples.find((e) => e.kind === 'sns-envelope/SubscriptionConfirmation')!;
    const env = signSnsEnvelope({ ...example.payload, Timestamp: new Date().toISOString() }, identity, '2');
    expect(await reason(JSON.stringify(env))).toBe('accepted');
    expect(await reason(JSON.stringify({ ...env, SubscribeURL: 'https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=other' }))).toBe('bad-signature');
  });
});

describe('SNS hosts, certificate subject and message age (issue #12)', () => {
  it('refuses S3 and other non-regional hosts that start with sns. (before asking for a certificate)', async () => {
    for (const url of [
      'https://sns.s3-external-1.amazonaws.com/SimpleNotificationService-1.pem',
      'https://sns.s3-us-west-2.amazonaws.com/SimpleNotificationService-1.pem',
      'https://sns.s3.amazonaws.com/SimpleNotificationService-1.pem',
      'https://sns.s3.us-west-2.amazonaws.com/SimpleNotificationService-1.pem',
      'https://sns.s3-website-us-east-1.amazonaws.com/SimpleNotificationService-1.pem',
      'https://sns.execute-api.amazonaws.com/SimpleNotificationService-1.pem',
      'https://sns.us-east-1.amazonaws.com.cn/SimpleNotificationService-1.pem',
      'https://sns.cn-north-1.amazonaws.com/SimpleNotificationService-1.pem',
      'https://sns.us-east.amazonaws.com/SimpleNotificationService-1.pem',
    ]) {
      expect(isValidSigningCertUrl(url), url).toBe(false);
      const spy: CertificateSource = { getCertificate: vi.fn(async () => identity.certPem) };
      const env = signedNotification({ a: 1 }, { ...identity, certUrl: url }, { topicArn: TEST_TOPIC });
      expect(await reason(JSON.stringify(env), { allowedTopicArns: [TEST_TOPIC], certificateSource: spy }), url).toBe('invalid-cert-url');
      expect(spy.getCertificate).not.toHaveBeenCalled();
    }
    for (const host of ['us-east-1', 'eu-central-1', 'ap-southeast-2', 'us-gov-west-1', 'il-central-1', 'me-south-1', 'ca-west-1']) {
      expect(isValidSigningCertUrl(`https://sns.${host}.amazonaws.com/SimpleNotificationService-1.pem`), host).toBe(true);
    }
    expect(isValidSigningCertUrl('https://sns.cn-northwest-1.amazonaws.com.cn/SimpleNotificationService-1.pem')).toBe(true);
  });

  it('refuses a certificate whose subject is not sns.amazonaws.com, or that is out of its validity', async () => {
    for (const bad of [
      await createSnsSigningIdentity(identity.certUrl, { commonName: 'evil.example' }),
      await createSnsSigningIdentity(identity.certUrl, { commonName: 'sns.amazonaws.com.evil.example' }),
      await createSnsSigningIdentity(identity.certUrl, { notBefore: new Date(Date.now() - 3 * 86400_000), notAfter: new Date(Date.now() - 86400_000) }),
    ]) {
      const env = signedNotification({ a: 1 }, bad, { topicArn: TEST_TOPIC });
      const own = new PreloadedCertificateSource({ [bad.certUrl]: bad.certPem });
      expect(await reason(JSON.stringify(env), { allowedTopicArns: [TEST_TOPIC], certificateSource: own })).toBe('bad-certificate');
    }
    const notACert = new PreloadedCertificateSource({ [identity.certUrl]: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' });
    const env = signedNotification({ a: 1 }, identity, { topicArn: TEST_TOPIC });
    expect(await reason(JSON.stringify(env), { allowedTopicArns: [TEST_TOPIC], certificateSource: notACert })).toBe('bad-certificate');
    // The simulator's own certificate (CN sns.amazonaws.com) passes.
    expect(await reason(JSON.stringify(env))).toBe('accepted');
  });

  it('refuses a correctly signed notification whose Timestamp is from 2015, or from the future', async () => {
    const at = (iso: string) => signSnsEnvelope({ ...signedNotification({ a: 1 }, identity, { topicArn: TEST_TOPIC }), Timestamp: iso }, identity, '2');
    expect(await reason(JSON.stringify(at('2015-06-01T12:00:00.000Z')))).toBe('stale');
    expect(await reason(JSON.stringify(at(new Date(Date.now() + 3600_000).toISOString())))).toBe('stale');
    expect(await reason(JSON.stringify(at('yesterday')))).toBe('bad-timestamp');
    // Inside SNS's retry window (3,600 s) it is accepted; SNS_MAX_AGE_S=0 lifts the bound.
    expect(await reason(JSON.stringify(at(new Date(Date.now() - 3550_000).toISOString())))).toBe('accepted');
    expect(await reason(JSON.stringify(at('2015-06-01T12:00:00.000Z')), { ...options(), maxAgeMs: 0 })).toBe('accepted');
    expect(await reason(JSON.stringify(at(new Date(Date.now() - 120_000).toISOString())), { ...options(), maxAgeMs: 60_000 })).toBe('stale');
  });

  it('checkSnsTimestamp: bounds are SNS_MAX_AGE_S behind and 300 s ahead', () => {
    const now = Date.parse('2026-11-28T12:00:00.000Z');
    const max = DEFAULT_SNS_MAX_AGE_S * 1000;
    expect(DEFAULT_SNS_MAX_AGE_S).toBeGreaterThanOrEqual(3600);
    expect(() => checkSnsTimestamp(new Date(now - max).toISOString(), now, max)).not.toThrow();
    expect(() => checkSnsTimestamp(new Date(now - max - 1).toISOString(), now, max)).toThrow(/older than 3900 s/);
    expect(() => checkSnsTimestamp(new Date(now + 300_000).toISOString(), now, max)).not.toThrow();
    expect(() => checkSnsTimestamp(new Date(now + 300_001).toISOString(), now, max)).toThrow(/future/);
    expect(() => checkSnsTimestamp('2026-11-28 12:00:00', now, max)).toThrow(SnsVerificationError);
  });
});

describe('certificate sources', () => {
  it('caches by URL with a bound, shares concurrent lookups and does not cache failures', async () => {
    let calls = 0;
    let fail = true;
    const inner: CertificateSource = {
      getCertificate: async (url) => {
        calls++;
        if (url.endsWith('fail.pem') && fail) throw new Error('down');
        return `pem for ${url}`;
      },
    };
    const cache = new CachingCertificateSource(inner, 2);
    const [a, b] = await Promise.all([cache.getCertificate('u/a.pem'), cache.getCertificate('u/a.pem')]);
    expect(a).toBe('pem for u/a.pem');
    expect(b).toBe(a);
    expect(calls).toBe(1);
    await cache.getCertificate('u/b.pem');
    await cache.getCertificate('u/a.pem'); // touch a: b is now least recent
    await cache.getCertificate('u/c.pem'); // evicts b
    expect(cache.size).toBe(2);
    expect(calls).toBe(3);
    await cache.getCertificate('u/a.pem');
    expect(calls).toBe(3);
    await cache.getCertificate('u/b.pem');
    expect(calls).toBe(4);
    await expect(cache.getCertificate('u/fail.pem')).rejects.toThrow('down');
    fail = false;
    expect(await cache.getCertificate('u/fail.pem')).toBe('pem for u/fail.pem');
  });

  it('HTTPS source refuses non-SNS URLs without fetching, refuses redirects, and bounds the size', async () => {
    const fetchSpy = vi.fn(async (_url: string | URL | Request, init?: RequestInit) => {
      expect(init?.redirect).toBe('error');
      return new Response('-----BEGIN CERTIFICATE-----\n' + 'A'.repeat(100_000), { status: 200 });
    });
    const https = new HttpsCertificateSource({ fetch: fetchSpy as unknown as typeof fetch, maxBytes: 10_000 });
    await expect(https.getCertificate('https://evil.example/x.pem')).rejects.toThrow(/refusing/);
    expect(fetchSpy).not.toHaveBeenCalled();
    await expect(https.getCertificate('https://sns.us-east-1.amazonaws.com/x.pem')).rejects.toThrow(/too large/);
    expect(fetchSpy).toHaveBeenCalledTimes(1);
    const ok = new HttpsCertificateSource({ fetch: (async () => new Response('-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n')) as unknown as typeof fetch });
    expect(await ok.getCertificate('https://sns.us-east-1.amazonaws.com/x.pem')).toContain('BEGIN CERTIFICATE');
    const notPem = new HttpsCertificateSource({ fetch: (async () => new Response('<html>')) as unknown as typeof fetch });
    await expect(notPem.getCertificate('https://sns.us-east-1.amazonaws.com/x.pem')).rejects.toThrow(/not PEM/);
  });

  it('SNS_CERTS preloads certificates consulted before any fetch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sns-certs-'));
    const file = join(dir, 'certs.json');
    writeFileSync(file, JSON.stringify({ [identity.certUrl]: identity.certPem }));
    const fallback: CertificateSource = { getCertificate: vi.fn(async () => identity.certPem) };
    const chained = createCertificateSource({ SNS_CERTS: file }, fallback);
    const env = signedNotification({ a: 1 }, identity, { topicArn: TEST_TOPIC });
    await verifySnsMessage(JSON.stringify(env), { allowedTopicArns: [TEST_TOPIC], certificateSource: chained });
    expect(fallback.getCertificate).not.toHaveBeenCalled();
    await chained.getCertificate('https://sns.us-east-2.amazonaws.com/other.pem');
    expect(fallback.getCertificate).toHaveBeenCalledTimes(1);
    writeFileSync(file, JSON.stringify({ [identity.certUrl]: 'nope' }));
    expect(() => createCertificateSource({ SNS_CERTS: file })).toThrow(/not a PEM/);
  });
});
