import { describe, expect, it } from 'vitest';
import { signUnsubscribeToken, verifyUnsubscribeToken } from '../unsubscribe/token.js';
import { signConfirmationToken, signResubscribeToken, verifyConfirmationToken, verifyResubscribeToken } from '../signup/signed-links.js';
import { decodeCanonicalMac, linkMac, purposeKey } from './link-mac.js';
import { createHmac } from 'node:crypto';

const SECRET = 'G1x1Vg4kP0j3C2f9mO5x0rAq8kYp3s7Tz6wL1eU4n2Q=';
const NOW = 1_800_000_000_000;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('per-purpose keys', () => {
  it('differ per purpose and from the secret itself', () => {
    const keys = (['unsubscribe', 'signup-confirm', 'resubscribe'] as const).map((p) => purposeKey(SECRET, p).toString('hex'));
    expect(new Set([...keys, Buffer.from(SECRET).toString('hex')]).size).toBe(4);
    expect(linkMac('unsubscribe', SECRET, 'm').equals(linkMac('resubscribe', SECRET, 'm'))).toBe(false);
  });

  it('an unsubscribe MAC is never valid as a confirmation or resubscribe MAC, even over the same numbers', () => {
    const unsubscribeMac = signUnsubscribeToken({ subscriberId: 17, listId: 2_000_000_000 }, SECRET).split('.')[2]!;
    expect(verifyConfirmationToken(`17.2000000000.${unsubscribeMac}`, [SECRET], NOW).status).toBe('invalid');
    expect(verifyResubscribeToken(`2000000000.${unsubscribeMac}`, { subscriberId: 17, listId: 2_000_000_000 }, 0, [SECRET], NOW).status).toBe('invalid');
    // and the other way round
    const confirmMac = signConfirmationToken(17, 2_000_000_000_000, SECRET).split('.')[2]!;
    expect(verifyUnsubscribeToken(`17.2000000000.${confirmMac}`, [SECRET])).toBeNull();
    const resubscribeMac = signResubscribeToken({ subscriberId: 17, listId: 2 }, NOW - 1000, NOW + 1000, SECRET).split('.')[1]!;
    expect(verifyUnsubscribeToken(`17.2.${resubscribeMac}`, [SECRET])).toBeNull();
  });

  it('unsubscribe links mailed before per-purpose keys (MAC keyed with the secret) still work', () => {
    const legacy = createHmac('sha256', SECRET).update('unsubscribe:42:7').digest().subarray(0, 16).toString('base64url');
    expect(verifyUnsubscribeToken(`42.7.${legacy}`, [SECRET])).toEqual({ subscriberId: 42, listId: 7 });
    expect(verifyConfirmationToken(`42.7.${legacy}`, [SECRET], 0).status).toBe('invalid');
  });
});

describe('canonical MAC spelling', () => {
  it('decodes only the spelling we produce', () => {
    const text = linkMac('unsubscribe', SECRET, 'x').toString('base64url');
    expect(decodeCanonicalMac(text)).not.toBeNull();
    const last = ALPHABET.indexOf(text.at(-1)!);
    const siblings = [...ALPHABET].filter((c, i) => i !== last && i >> 4 === last >> 4);
    expect(siblings).toHaveLength(15);
    for (const c of siblings) expect(decodeCanonicalMac(text.slice(0, -1) + c)).toBeNull();
  });

  it('unsubscribe tokens accept 1 spelling of the last MAC character, not 16', () => {
    const token = signUnsubscribeToken({ subscriberId: 42, listId: 7 }, SECRET);
    const accepted = [...ALPHABET].filter((c) => verifyUnsubscribeToken(token.slice(0, -1) + c, [SECRET]) !== null);
    expect(accepted).toEqual([token.at(-1)]);
  });
});
