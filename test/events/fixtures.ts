/**
 * The AWS documentation examples (../shared/fixtures/ses/aws-docs-examples.json),
 * re-signed with a generated key so the verifier can check them.
 */
import { readFileSync } from 'node:fs';
import { signedNotification, signSnsEnvelope, type SnsSigningIdentity } from '../../src/simulator/sns-signer.js';
import type { SnsEnvelope } from '../../src/events/sns-message.js';

export const FIXTURES_PATH = process.env.SES_FIXTURES ?? '/work/shared/fixtures/ses/aws-docs-examples.json';

export interface DocExample {
  kind: string;
  source: string;
  note: string;
  payload: Record<string, unknown>;
}

export const docExamples: DocExample[] = JSON.parse(readFileSync(FIXTURES_PATH, 'utf8')) as DocExample[];

export const TEST_TOPIC = 'arn:aws:sns:us-east-1:123456789012:ses-events';

/**
 * A signed SNS envelope for an example: SNS envelopes are re-signed as they are (their
 * own topic) but with a current Timestamp (the verifier refuses messages older than
 * SNS_MAX_AGE_S; the documentation's are from 2012); SES payloads are wrapped in a
 * Notification on TEST_TOPIC.
 */
export function signedExample(example: DocExample, identity: SnsSigningIdentity, version: '1' | '2', messageId?: string): SnsEnvelope {
  if (example.kind.startsWith('sns-envelope/')) {
    const env = { ...example.payload, Timestamp: new Date().toISOString() } as Partial<SnsEnvelope>;
    if (messageId) env.MessageId = messageId;
    return signSnsEnvelope(env, identity, version) as SnsEnvelope;
  }
  return signedNotification(example.payload, identity, { topicArn: TEST_TOPIC, version, messageId });
}

/** Topics the examples use (the SNS doc envelopes name their own). */
export const exampleTopics = [...new Set([TEST_TOPIC, ...docExamples.filter((e) => e.kind.startsWith('sns-envelope/')).map((e) => e.payload.TopicArn as string)])];

/** The fields covered by the signature for an envelope's Type. */
export function signedFields(env: SnsEnvelope): Array<keyof SnsEnvelope> {
  return env.Type === 'Notification'
    ? (['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const).filter((k) => env[k] !== undefined)
    : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
}

/** Positions to mutate in a string: first, last and a spread between. */
export function positions(length: number, count = 12): number[] {
  if (length === 0) return [];
  const out = new Set<number>([0, length - 1]);
  for (let i = 1; i < count; i++) out.add(Math.floor((i * length) / count));
  return [...out];
}

/** The string with the character at `i` replaced by a different one. */
export function changeAt(s: string, i: number): string {
  const c = s[i]!;
  const replacement = c === 'a' ? 'b' : c === '0' ? '1' : 'a';
  return s.slice(0, i) + replacement + s.slice(i + 1);
}
