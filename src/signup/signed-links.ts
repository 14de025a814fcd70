/**
 * Signed, expiring links for the subscriber pages. Both are HMAC-SHA256 (truncated to
 * 128 bits) under a key derived for their purpose (src/secrets/link-mac.ts) and with a
 * purpose prefix, so a confirmation token can never be replayed as an unsubscribe or
 * resubscribe token and vice versa:
 *
 *   confirmation  `<requestId>.<expiresAtSeconds>.<mac>`  mac over "signup-confirm:<id>:<exp>"
 *   resubscribe   `<expiresAtSeconds>.<mac>`              mac over "resubscribe:<sid>:<lid>:<unsubscribedAt>:<exp>"
 *
 * The expiry is inside the MAC, so it cannot be stretched; verification tells an expired
 * (but genuine) link from a tampered one, so the page can say which it is.
 */
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import { encodeMac, linkMac, macMatches } from '../secrets/link-mac.js';

export type LinkCheck<T> = { status: 'valid'; value: T } | { status: 'expired'; value: T } | { status: 'invalid' };

/** The signing secret first, then any older ones still accepted. */
export function signupSecrets(config: Pick<Config, 'SIGNUP_SECRET' | 'UNSUBSCRIBE_SECRET' | 'UNSUBSCRIBE_SECRET_OLD'>): string[] {
  if (config.SIGNUP_SECRET) return [config.SIGNUP_SECRET];
  if (!config.UNSUBSCRIBE_SECRET) throw new ConfigError('the sign-up pages need SIGNUP_SECRET or UNSUBSCRIBE_SECRET to be set in the environment');
  return [config.UNSUBSCRIBE_SECRET, config.UNSUBSCRIBE_SECRET_OLD].filter((s): s is string => !!s);
}

const toSeconds = (ms: number) => Math.ceil(ms / 1000);

export function signConfirmationToken(requestId: number, expiresAtMs: number, secret: string): string {
  const exp = toSeconds(expiresAtMs);
  return `${requestId}.${exp}.${encodeMac(linkMac('signup-confirm', secret, `signup-confirm:${requestId}:${exp}`))}`;
}

export function verifyConfirmationToken(token: string, secrets: readonly string[], nowMs: number): LinkCheck<{ requestId: number; expiresAtMs: number }> {
  const m = /^(\d{1,15})\.(\d{1,12})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!m) return { status: 'invalid' };
  const requestId = Number(m[1]);
  const exp = Number(m[2]);
  if (!macMatches('signup-confirm', m[3]!, `signup-confirm:${requestId}:${exp}`, secrets)) return { status: 'invalid' };
  const value = { requestId, expiresAtMs: exp * 1000 };
  return exp * 1000 <= nowMs ? { status: 'expired', value } : { status: 'valid', value };
}

export interface ResubscribeClaim {
  subscriberId: number;
  listId: number;
}

/**
 * The instant "Unsubscribed by mistake?" button: offered only in the answer to the POST that
 * unsubscribed, bound to that unsubscribe (the membership's unsubscribe time is inside the
 * MAC), so it works once: after a resubscribe, or another unsubscribe, the time differs.
 */
export function signResubscribeToken(claim: ResubscribeClaim, unsubscribedAt: number, expiresAtMs: number, secret: string): string {
  const exp = toSeconds(expiresAtMs);
  return `${exp}.${encodeMac(linkMac('resubscribe', secret, resubscribeMessage(claim, unsubscribedAt, exp)))}`;
}

const resubscribeMessage = (claim: ResubscribeClaim, unsubscribedAt: number, exp: number) => `resubscribe:${claim.subscriberId}:${claim.listId}:${unsubscribedAt}:${exp}`;

/** Check a resubscribe token against the claim and the membership's current unsubscribe time. */
export function verifyResubscribeToken(token: string, claim: ResubscribeClaim, unsubscribedAt: number, secrets: readonly string[], nowMs: number): LinkCheck<ResubscribeClaim> {
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!m) return { status: 'invalid' };
  const exp = Number(m[1]);
  if (!macMatches('resubscribe', m[2]!, resubscribeMessage(claim, unsubscribedAt, exp), secrets)) return { status: 'invalid' };
  return exp * 1000 <= nowMs ? { status: 'expired', value: claim } : { status: 'valid', value: claim };
}
