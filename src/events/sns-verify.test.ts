import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createSnsSigningIdentity, signedNotification, signSnsEnvelope, type SnsSigningIdentity } from '../simulator/sns-signer.js';
import { changeAt, docExamples, exampleTopics, positions, signedExample, signedFields, TEST_TOPIC } from '../../test/events/fixtures.js';
import {
  CachingCertificateSource,
  createCertificateSource,
  HttpsCertificateSource,
  isValidSigningCertUrl,
  isValidSubscribeUrl,
  PreloadedCertificateSource,
  SnsVerificationError,
  verifySnsMessage,
  type CertificateSource,
} from './sns-verify.js';

let identity: SnsSigningIdentity;
let source: PreloadedCertificateSource;

beforeAll(async () => {
  identity = await createSnsSigningIdentity();
  source = new PreloadedCertificateSource({ [identity.certUrl]: identity.certPem });
});

const options = (): { allowedTopicArns: string[]; certificateSource: CertificateSource } => ({ allowedTopicArns: exampleTopics, certificateSource: source });

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
    const env = signSnsEnvelope({ ...example.payload }, identity, '2');
    expect(await reason(JSON.stringify(env))).toBe('accepted');
    expect(await reason(JSON.stringify({ ...env, SubscribeURL: 'https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=other' }))).toBe('bad-signature');
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
