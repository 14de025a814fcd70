/**
 * Signed, expiring links for the subscriber pages. Both are HMAC-SHA256 (truncated to
 * 128 bits) with a purpose prefix, so a confirmation token can never be replayed as an
 * unsubscribe or resubscribe token and vice versa:
 *
 *   confirmation  `<requestId>.<expiresAtSeconds>.<mac>`  mac over "signup-confirm:<id>:<exp>"
 *   resubscribe   `<expiresAtSeconds>.<mac>`              mac over "resubscribe:<sid>:<lid>:<exp>"
 *
 * The expiry is inside the MAC, so it cannot be stretched; verification tells an expired
 * (but genuine) link from a tampered one, so the page can say which it is.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';

const MAC_BYTES = 16;

export type LinkCheck<T> = { status: 'valid'; value: T } | { status: 'expired'; value: T } | { status: 'invalid' };

function mac(message: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(message).digest().subarray(0, MAC_BYTES);
}

function macMatches(given: string, message: string, secrets: readonly string[]): boolean {
  const bytes = Buffer.from(given, 'base64url');
  // Canonical encoding only: the last base64 character carries 4 unused bits, so without
  // this check one MAC would have 16 spellings (a "tampered" link that still works).
  if (bytes.length !== MAC_BYTES || bytes.toString('base64url') !== given) return false;
  let ok = false;
  // Check every secret (no early exit) so timing does not tell which one matched.
  for (const secret of secrets) {
    if (secret && timingSafeEqual(bytes, mac(message, secret))) ok = true;
  }
  return ok;
}

/** The signing secret first, then any older ones still accepted. */
export function signupSecrets(config: Pick<Config, 'SIGNUP_SECRET' | 'UNSUBSCRIBE_SECRET' | 'UNSUBSCRIBE_SECRET_OLD'>): string[] {
  if (config.SIGNUP_SECRET) return [config.SIGNUP_SECRET];
  if (!config.UNSUBSCRIBE_SECRET) throw new ConfigError('the sign-up pages need SIGNUP_SECRET or UNSUBSCRIBE_SECRET to be set in the environment');
  return [config.UNSUBSCRIBE_SECRET, config.UNSUBSCRIBE_SECRET_OLD].filter((s): s is string => !!s);
}

const toSeconds = (ms: number) => Math.ceil(ms / 1000);

export function signConfirmationToken(requestId: number, expiresAtMs: number, secret: string): string {
  const exp = toSeconds(expiresAtMs);
  return `${requestId}.${exp}.${mac(`signup-confirm:${requestId}:${exp}`, secret).toString('base64url')}`;
}

export function verifyConfirmationToken(token: string, secrets: readonly string[], nowMs: number): LinkCheck<{ requestId: number; expiresAtMs: number }> {
  const m = /^(\d{1,15})\.(\d{1,12})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!m) return { status: 'invalid' };
  const requestId = Number(m[1]);
  const exp = Number(m[2]);
  if (!macMatches(m[3]!, `signup-confirm:${requestId}:${exp}`, secrets)) return { status: 'invalid' };
  const value = { requestId, expiresAtMs: exp * 1000 };
  return exp * 1000 <= nowMs ? { status: 'expired', value } : { status: 'valid', value };
}

export interface ResubscribeClaim {
  subscriberId: number;
  listId: number;
}

export function signResubscribeToken(claim: ResubscribeClaim, expiresAtMs: number, secret: string): string {
  const exp = toSeconds(expiresAtMs);
  return `${exp}.${mac(`resubscribe:${claim.subscriberId}:${claim.listId}:${exp}`, secret).toString('base64url')}`;
}

export function verifyResubscribeToken(token: string, claim: ResubscribeClaim, secrets: readonly string[], nowMs: number): LinkCheck<ResubscribeClaim> {
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!m) return { status: 'invalid' };
  const exp = Number(m[1]);
  if (!macMatches(m[2]!, `resubscribe:${claim.subscriberId}:${claim.listId}:${exp}`, secrets)) return { status: 'invalid' };
  return exp * 1000 <= nowMs ? { status: 'expired', value: claim } : { status: 'valid', value: claim };
}
