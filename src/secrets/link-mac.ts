/**
 * The MACs inside signed links (unsubscribe, sign-up confirmation, resubscribe): one key
 * per purpose, derived from the configured secret, and one canonical text form.
 *
 * Per-purpose keys: the key for a purpose is HMAC-SHA256(secret, "newsletter-link-key:" +
 * purpose), so a MAC made for one purpose is never valid for another even if two purposes
 * ever signed the same message bytes, and one leaked derived key opens one purpose only.
 *
 * Canonical text: a 16-byte MAC is 22 base64url characters; the last carries 2 bits of
 * the MAC and 4 unused bits, so a lenient decoder accepts 16 spellings of one MAC. Only
 * the spelling we produce is accepted.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type LinkPurpose = 'unsubscribe' | 'signup-confirm' | 'resubscribe';

export const MAC_BYTES = 16;
/** Characters of a MAC_BYTES MAC in base64url without padding. */
export const MAC_CHARS = 22;

/** The key for one purpose, derived from a configured secret. */
export function purposeKey(secret: string, purpose: LinkPurpose): Buffer {
  // Derived once per (secret, purpose) and process: the send path signs a link per message.
  const id = `${purpose}\u0000${secret}`;
  let key = derivedKeys.get(id);
  if (!key) {
    key = createHmac('sha256', secret).update(`newsletter-link-key:${purpose}`).digest();
    if (derivedKeys.size >= 16) derivedKeys.clear();
    derivedKeys.set(id, key);
  }
  return key;
}

/** A handful of entries at most (the configured secret and any old ones being verified). */
const derivedKeys = new Map<string, Buffer>();

/** The truncated HMAC of `message` under the purpose's key. */
export function linkMac(purpose: LinkPurpose, secret: string, message: string): Buffer {
  return createHmac('sha256', purposeKey(secret, purpose)).update(message).digest().subarray(0, MAC_BYTES);
}

export function encodeMac(mac: Buffer): string {
  return mac.toString('base64url');
}

/** The MAC bytes if `text` is the canonical spelling of a MAC_BYTES MAC, else null. */
export function decodeCanonicalMac(text: string): Buffer | null {
  if (text.length !== MAC_CHARS || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.length === MAC_BYTES && bytes.toString('base64url') === text ? bytes : null;
}

export interface MacCheckOptions {
  /**
   * Also accept a MAC made with the secret itself as the key (links mailed before keys were
   * derived per purpose). Only unsubscribe links use it: they live in old mail for years and
   * RFC 8058 wants them honoured; their message is prefixed "unsubscribe:", so no other
   * purpose's verifier ever sees such a MAC as valid.
   */
  acceptLegacyKey?: boolean;
}

/** Whether `given` (text) is the canonical MAC of `message` for `purpose` under any of `secrets`. */
export function macMatches(purpose: LinkPurpose, given: string, message: string, secrets: readonly string[], options: MacCheckOptions = {}): boolean {
  const bytes = decodeCanonicalMac(given);
  if (!bytes) return false;
  let ok = false;
  // Check every secret (no early exit) so timing does not tell which one matched.
  for (const secret of secrets) {
    if (!secret) continue;
    if (timingSafeEqual(bytes, linkMac(purpose, secret, message))) ok = true;
    if (options.acceptLegacyKey && timingSafeEqual(bytes, createHmac('sha256', secret).update(message).digest().subarray(0, MAC_BYTES))) ok = true;
  }
  return ok;
}
