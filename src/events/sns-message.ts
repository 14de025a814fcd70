/**
 * Amazon SNS HTTP(S) message envelopes and their canonical string to sign.
 * Rules: ../shared/fixtures/ses/README.md (and the SNS developer guide).
 */
export type SnsMessageType = 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';

export interface SnsEnvelope {
  Type: SnsMessageType;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  Subject?: string;
  Token?: string;
  SubscribeURL?: string;
  UnsubscribeURL?: string;
}

const NOTIFICATION_KEYS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const;
const SUBSCRIPTION_KEYS = ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'] as const;

/**
 * The canonical string SNS signs: for each key in the type's order, `Key\nValue\n`.
 * Subject is included only when present. Returns null for an unknown Type.
 */
export function snsStringToSign(message: Partial<Record<string, unknown>>): string | null {
  const keys =
    message.Type === 'Notification'
      ? NOTIFICATION_KEYS
      : message.Type === 'SubscriptionConfirmation' || message.Type === 'UnsubscribeConfirmation'
        ? SUBSCRIPTION_KEYS
        : null;
  if (!keys) return null;
  let out = '';
  for (const key of keys) {
    const value = message[key];
    if (value === undefined || value === null) {
      if (key === 'Subject') continue;
      return null;
    }
    if (typeof value !== 'string') return null;
    out += `${key}\n${value}\n`;
  }
  return out;
}

/** Node crypto algorithm for an SNS SignatureVersion, or null if unsupported. */
export function snsSignatureAlgorithm(version: unknown): 'RSA-SHA1' | 'RSA-SHA256' | null {
  if (version === '1') return 'RSA-SHA1';
  if (version === '2') return 'RSA-SHA256';
  return null;
}
