import { createVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { snsStringToSign } from '../events/sns-message.js';
import { createSnsSigningIdentity, signedNotification } from './sns-signer.js';

describe('SNS signer', () => {
  it('produces signatures that verify against its certificate (v1 and v2), and not after a change', async () => {
    const identity = await createSnsSigningIdentity();
    for (const [version, algorithm] of [['1', 'RSA-SHA1'], ['2', 'RSA-SHA256']] as const) {
      const env = signedNotification({ hello: 'world' }, identity, { topicArn: 'arn:aws:sns:us-east-1:1:t', version, subject: 'S' });
      const ok = createVerify(algorithm).update(snsStringToSign(env as unknown as Record<string, unknown>)!).verify(identity.certPem, env.Signature, 'base64');
      expect(ok).toBe(true);
      const tampered = { ...env, Message: env.Message.replace('world', 'World') };
      const bad = createVerify(algorithm).update(snsStringToSign(tampered as unknown as Record<string, unknown>)!).verify(identity.certPem, env.Signature, 'base64');
      expect(bad).toBe(false);
    }
  });

  it('builds the string to sign in the documented key order, Subject only when present', () => {
    const base = { Type: 'Notification', MessageId: 'm', TopicArn: 't', Message: 'x', Timestamp: 'ts' };
    expect(snsStringToSign(base)).toBe('Message\nx\nMessageId\nm\nTimestamp\nts\nTopicArn\nt\nType\nNotification\n');
    expect(snsStringToSign({ ...base, Subject: 's' })).toContain('MessageId\nm\nSubject\ns\nTimestamp');
    expect(snsStringToSign({ ...base, Type: 'Bogus' })).toBeNull();
    expect(snsStringToSign({ ...base, Type: 'SubscriptionConfirmation' })).toBeNull();
  });
});
