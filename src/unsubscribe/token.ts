/**
 * Unsubscribe tokens: `<subscriberId>.<listId>.<mac>` where mac is a truncated
 * HMAC-SHA256 over "unsubscribe:<subscriberId>:<listId>" with the unsubscribe key derived
 * from UNSUBSCRIBE_SECRET (src/secrets/link-mac.ts). Unforgeable without the secret, needs
 * no lookup table, and can be rotated by verifying against the old secret too.
 */
import { encodeMac, linkMac, macMatches } from '../secrets/link-mac.js';

export interface UnsubscribeClaim {
  subscriberId: number;
  listId: number;
}

const message = (claim: UnsubscribeClaim) => `unsubscribe:${claim.subscriberId}:${claim.listId}`;

export function signUnsubscribeToken(claim: UnsubscribeClaim, secret: string): string {
  return `${claim.subscriberId}.${claim.listId}.${encodeMac(linkMac('unsubscribe', secret, message(claim)))}`;
}

/**
 * The claim if the token was made with one of `secrets`, else null. Constant-time
 * comparison; only the canonical spelling of the MAC; links mailed before per-purpose keys
 * (MAC keyed with the secret itself) are still honoured.
 */
export function verifyUnsubscribeToken(token: string, secrets: readonly string[]): UnsubscribeClaim | null {
  const match = /^(\d{1,15})\.(\d{1,15})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!match) return null;
  const claim = { subscriberId: Number(match[1]), listId: Number(match[2]) };
  return macMatches('unsubscribe', match[3]!, message(claim), secrets, { acceptLegacyKey: true }) ? claim : null;
}
