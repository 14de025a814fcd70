import { describe, expect, it } from 'vitest';
import {
  signConfirmationToken,
  signResubscribeToken,
  signupSecrets,
  verifyConfirmationToken,
  verifyResubscribeToken,
} from '../../src/signup/signed-links.js';
import { signUnsubscribeToken } from '../../src/unsubscribe/token.js';
import { parseSignupForm } from '../../src/signup/signup-form.js';

const NOW = 1_800_000_000_000;

describe('confirmation tokens', () => {
  it('verify until their expiry, then report expired (not invalid)', () => {
    const t = signConfirmationToken(17, NOW + 60_000, 's1');
    expect(verifyConfirmationToken(t, ['s1'], NOW)).toEqual({ status: 'valid', value: { requestId: 17, expiresAtMs: NOW + 60_000 } });
    expect(verifyConfirmationToken(t, ['s1'], NOW + 59_999).status).toBe('valid');
    expect(verifyConfirmationToken(t, ['s1'], NOW + 60_000).status).toBe('expired');
  });

  it('are invalid with another secret, another id or expiry, a changed MAC, or another purpose', () => {
    const t = signConfirmationToken(17, NOW + 60_000, 's1');
    const [id, exp, mac] = t.split('.') as [string, string, string];
    expect(verifyConfirmationToken(t, ['s2'], NOW).status).toBe('invalid');
    expect(verifyConfirmationToken(`18.${exp}.${mac}`, ['s1'], NOW).status).toBe('invalid');
    expect(verifyConfirmationToken(`${id}.${Number(exp) + 1}.${mac}`, ['s1'], NOW).status).toBe('invalid');
    expect(verifyConfirmationToken(`${id}.${exp}.${mac.slice(1)}A`, ['s1'], NOW).status).toBe('invalid');
    expect(verifyConfirmationToken(signUnsubscribeToken({ subscriberId: 17, listId: Number(exp) }, 's1'), ['s1'], NOW).status).toBe('invalid');
    expect(verifyConfirmationToken('', ['s1'], NOW).status).toBe('invalid');
    expect(verifyConfirmationToken(`${t} `, ['s1'], NOW).status).toBe('invalid');
  });

  it('accept only the canonical spelling of the MAC', () => {
    const t = signConfirmationToken(17, NOW + 60_000, 's1');
    const last = t.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // The last of 22 characters holds 2 bits of the 16-byte MAC; its other 4 bits are padding.
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    expect(Buffer.from(t.split('.')[2]!.slice(0, -1) + sibling, 'base64url').equals(Buffer.from(t.split('.')[2]!, 'base64url'))).toBe(true);
    expect(verifyConfirmationToken(t.slice(0, -1) + sibling, ['s1'], NOW).status).toBe('invalid');
  });

  it('accept any of the configured secrets (rotation)', () => {
    const t = signConfirmationToken(3, NOW + 1000, 'old');
    expect(verifyConfirmationToken(t, ['new', 'old'], NOW).status).toBe('valid');
  });

  it('use SIGNUP_SECRET, else the unsubscribe secrets, else refuse to start', () => {
    expect(signupSecrets({ SIGNUP_SECRET: 'a', UNSUBSCRIBE_SECRET: 'b', UNSUBSCRIBE_SECRET_OLD: 'c' })).toEqual(['a']);
    expect(signupSecrets({ SIGNUP_SECRET: undefined, UNSUBSCRIBE_SECRET: 'b', UNSUBSCRIBE_SECRET_OLD: 'c' })).toEqual(['b', 'c']);
    expect(() => signupSecrets({ SIGNUP_SECRET: undefined, UNSUBSCRIBE_SECRET: undefined, UNSUBSCRIBE_SECRET_OLD: undefined })).toThrow(/SIGNUP_SECRET or UNSUBSCRIBE_SECRET/);
  });
});

describe('resubscribe tokens', () => {
  it('bind subscriber, list, the unsubscribe they answer and expiry', () => {
    const claim = { subscriberId: 5, listId: 2 };
    const at = NOW - 5000;
    const t = signResubscribeToken(claim, at, NOW + 1000, 's');
    expect(verifyResubscribeToken(t, claim, at, ['s'], NOW).status).toBe('valid');
    expect(verifyResubscribeToken(t, claim, at, ['s'], NOW + 1000).status).toBe('expired');
    expect(verifyResubscribeToken(t, { subscriberId: 6, listId: 2 }, at, ['s'], NOW).status).toBe('invalid');
    expect(verifyResubscribeToken(t, { subscriberId: 5, listId: 3 }, at, ['s'], NOW).status).toBe('invalid');
    expect(verifyResubscribeToken(t, claim, at + 1, ['s'], NOW).status).toBe('invalid'); // another unsubscribe
    expect(verifyResubscribeToken(t, claim, at, ['x'], NOW).status).toBe('invalid');
  });
});

describe('parseSignupForm', () => {
  const lists = ['default', 'Release notes'];
  it('normalises the address, defaults the list and refuses lists not offered', () => {
    expect(parseSignupForm({ email: '  Ann@Example.COM ', name: '  Ann  Lee ' }, lists)).toEqual({ kind: 'ok', email: 'ann@example.com', name: 'Ann Lee', list: 'default' });
    expect(parseSignupForm({ email: 'a@example.com', list: 'Release notes' }, lists)).toMatchObject({ kind: 'ok', list: 'Release notes' });
    expect(parseSignupForm({ email: 'a@example.com', list: 'staff' }, lists)).toMatchObject({ kind: 'invalid', field: 'list' });
  });
  it('treats a filled honeypot as a bot before anything else', () => {
    expect(parseSignupForm({ email: 'not an address', website: 'x' }, lists)).toEqual({ kind: 'bot' });
    expect(parseSignupForm({ email: 'a@example.com', website: '   ' }, lists)).toMatchObject({ kind: 'ok' });
  });
  it('rejects malformed input without echoing it unescaped anywhere', () => {
    expect(parseSignupForm({}, lists)).toMatchObject({ kind: 'invalid', field: 'email', message: 'Enter your email address.' });
    expect(parseSignupForm({ email: 'a@b' }, lists)).toMatchObject({ kind: 'invalid', field: 'email' });
    expect(parseSignupForm({ email: 'a@example.com', name: 'a\u0000b' }, lists)).toMatchObject({ kind: 'invalid', field: 'name' });
    expect(parseSignupForm({ email: ['a@example.com', 'b@example.com'] }, lists)).toMatchObject({ kind: 'ok', email: 'a@example.com' });
    expect(parseSignupForm('email=a', lists)).toMatchObject({ kind: 'invalid' });
  });
});
