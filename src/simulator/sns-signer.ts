/**
 * Signs SNS envelopes the way Amazon SNS does, with a generated key pair and a
 * self-signed certificate. Used by the SES simulator, the demo and tests; the
 * verifier learns the certificate through SNS_CERTS (a JSON file `{certUrl: pem}`)
 * or an injected certificate source, so no network fetch happens.
 */
import { createSign, randomUUID } from 'node:crypto';
import selfsigned from 'selfsigned';
import { snsSignatureAlgorithm, snsStringToSign, type SnsEnvelope, type SnsMessageType } from '../events/sns-message.js';

export interface SnsSigningIdentity {
  certUrl: string;
  certPem: string;
  privateKeyPem: string;
}

export const DEFAULT_TEST_CERT_URL = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-local-simulator.pem';

/**
 * A key pair and self-signed certificate shaped like SNS's: subject CN sns.amazonaws.com
 * (the verifier checks it) at a URL on an SNS host (DEFAULT_TEST_CERT_URL matches the
 * verifier's pattern), valid from a day ago for ten years. Tests may ask for another
 * subject or validity to see the verifier refuse it.
 */
export async function createSnsSigningIdentity(
  certUrl = DEFAULT_TEST_CERT_URL,
  options: { commonName?: string; notBefore?: Date; notAfter?: Date } = {},
): Promise<SnsSigningIdentity> {
  const day = 24 * 3600 * 1000;
  const pems = await selfsigned.generate([{ name: 'commonName', value: options.commonName ?? 'sns.amazonaws.com' }], {
    keySize: 2048,
    notBeforeDate: options.notBefore ?? new Date(Date.now() - day),
    notAfterDate: options.notAfter ?? new Date(Date.now() + 10 * 365 * day),
  });
  return { certUrl, certPem: pems.cert, privateKeyPem: pems.private };
}

/** Sign (or re-sign) an envelope in place of its Signature, SignatureVersion and SigningCertURL. */
export function signSnsEnvelope<T extends Partial<SnsEnvelope>>(
  envelope: T,
  identity: SnsSigningIdentity,
  version: '1' | '2' = '2',
): T & Pick<SnsEnvelope, 'Signature' | 'SignatureVersion' | 'SigningCertURL'> {
  const toSign = snsStringToSign(envelope as Record<string, unknown>);
  if (toSign === null) throw new Error(`cannot sign SNS envelope of type ${String(envelope.Type)}`);
  const signer = createSign(snsSignatureAlgorithm(version)!);
  signer.update(toSign, 'utf8');
  return {
    ...envelope,
    SignatureVersion: version,
    SigningCertURL: identity.certUrl,
    Signature: signer.sign(identity.privateKeyPem, 'base64'),
  };
}

/** A signed Notification envelope carrying `message` (an SES notification object or string). */
export function signedNotification(
  message: unknown,
  identity: SnsSigningIdentity,
  options: { topicArn: string; subject?: string; version?: '1' | '2'; messageId?: string; type?: SnsMessageType },
): SnsEnvelope {
  const envelope: Partial<SnsEnvelope> = {
    Type: options.type ?? 'Notification',
    MessageId: options.messageId ?? randomUUID(),
    TopicArn: options.topicArn,
    Message: typeof message === 'string' ? message : JSON.stringify(message),
    Timestamp: new Date().toISOString(),
    UnsubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${options.topicArn}:local`,
  };
  if (options.subject !== undefined) envelope.Subject = options.subject;
  return signSnsEnvelope(envelope, identity, options.version ?? '2') as SnsEnvelope;
}
