import { describe, expect, it } from 'vitest';
import { signUnsubscribeToken, verifyUnsubscribeToken } from './token.js';

describe('unsubscribe tokens', () => {
  const claim = { subscriberId: 42, listId: 7 };

  it('round-trips with the secret that made it', () => {
    const token = signUnsubscribeToken(claim, 's3cret');
    expect(verifyUnsubscribeToken(token, ['s3cret'])).toEqual(claim);
  });

  it('accepts a token made with the previous secret during rotation', () => {
    const token = signUnsubscribeToken(claim, 'old');
    expect(verifyUnsubscribeToken(token, ['new', 'old'])).toEqual(claim);
    expect(verifyUnsubscribeToken(token, ['new'])).toBeNull();
  });

  it('rejects a token whose subscriber or list was changed', () => {
    const token = signUnsubscribeToken(claim, 's3cret');
    const [, , macPart] = token.split('.');
    expect(verifyUnsubscribeToken(`43.7.${macPart}`, ['s3cret'])).toBeNull();
    expect(verifyUnsubscribeToken(`42.8.${macPart}`, ['s3cret'])).toBeNull();
  });

  it('rejects malformed tokens', () => {
    for (const bad of ['', 'x', '1.2', '1.2.3', `1.2.${'A'.repeat(21)}`, `a.2.${'A'.repeat(22)}`]) {
      expect(verifyUnsubscribeToken(bad, ['s3cret'])).toBeNull();
    }
  });
});
