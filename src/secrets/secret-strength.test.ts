import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { WeakSecretError } from '../errors.js';
import { assessSecret } from './secret-strength.js';
import { requireSigningSecrets } from './signing-secrets.js';

const STRONG = randomBytes(32).toString('base64');

describe('link-signing secret strength', () => {
  it('accepts what openssl rand -base64 32 / -hex 32 and a 43-character base64url make', () => {
    for (let i = 0; i < 50; i++) {
      expect(assessSecret(randomBytes(32).toString('base64'))).toEqual({ ok: true });
      expect(assessSecret(randomBytes(32).toString('hex'))).toEqual({ ok: true });
      expect(assessSecret(randomBytes(32).toString('base64url'))).toEqual({ ok: true });
    }
  });

  it('refuses short values, placeholders, repeats and few distinct characters', () => {
    const refused: Record<string, RegExp> = {
      a: /repeated|distinct/,
      'change-me-to-a-long-random-string': /placeholder/,
      'CHANGEME-0123456789abcdefghijklmnopqrstuvwxyzABCDEF': /placeholder/,
      'test-secret-test-secret-test-secret': /distinct/,
      'test-secret-test-secret-test-secret-': /repeated/,
      ['x'.repeat(100)]: /repeated/,
      [randomBytes(16).toString('hex')]: /too short/, // 32 hex characters = 16 bytes
      [randomBytes(24).toString('base64')]: /too short/,
      'abababababababababababababababababababababababababababababcd': /distinct/,
    };
    for (const [value, reason] of Object.entries(refused)) {
      const verdict = assessSecret(value);
      expect(verdict.ok, value).toBe(false);
      if (!verdict.ok) expect(verdict.reason, value).toMatch(reason);
    }
  });
});

describe('requireSigningSecrets (serve, worker, demo)', () => {
  it('refuses a missing UNSUBSCRIBE_SECRET, naming it and how to make one', () => {
    const err = (() => {
      try {
        requireSigningSecrets(loadConfig({}), 'serve');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(WeakSecretError);
    expect((err as WeakSecretError).variable).toBe('UNSUBSCRIBE_SECRET');
    expect((err as Error).message).toMatch(/serve needs UNSUBSCRIBE_SECRET.*openssl rand -base64 32/);
  });

  it("refuses 'a', also with NODE_ENV=production, and a weak SIGNUP_SECRET or UNSUBSCRIBE_SECRET_OLD", () => {
    expect(() => requireSigningSecrets(loadConfig({ UNSUBSCRIBE_SECRET: 'a', NODE_ENV: 'production' }), 'worker')).toThrow(/worker: UNSUBSCRIBE_SECRET .*openssl rand/);
    expect(() => requireSigningSecrets(loadConfig({ UNSUBSCRIBE_SECRET: STRONG, SIGNUP_SECRET: 'signup' }), 'serve')).toThrow(/SIGNUP_SECRET/);
    expect(() => requireSigningSecrets(loadConfig({ UNSUBSCRIBE_SECRET: STRONG, UNSUBSCRIBE_SECRET_OLD: 'old-secret' }), 'serve')).toThrow(/UNSUBSCRIBE_SECRET_OLD/);
  });

  it('passes strong secrets through (SIGNUP_SECRET may stay unset: it falls back to UNSUBSCRIBE_SECRET)', () => {
    const config = loadConfig({ UNSUBSCRIBE_SECRET: STRONG });
    expect(requireSigningSecrets(config, 'serve').UNSUBSCRIBE_SECRET).toBe(STRONG);
  });
});
