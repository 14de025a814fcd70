import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Unsubscribe tokens: `<subscriberId>.<listId>.<mac>` where mac is a truncated
 * HMAC-SHA256 over "unsubscribe:<subscriberId>:<listId>" with UNSUBSCRIBE_SECRET.
 * Unforgeable without the secret, needs no lookup table, and can be rotated by
 * verifying against the old secret too.
 */
export interface UnsubscribeClaim {
  subscriberId: number;
  listId: number;
}

const MAC_BYTES = 16;

function mac(claim: UnsubscribeClaim, secret: string): Buffer {
  return createHmac('sha256', secret)
    .update(`unsubscribe:${claim.subscriberId}:${claim.listId}`)
    .digest()
    .subarray(0, MAC_BYTES);
}

export function signUnsubscribeToken(claim: UnsubscribeClaim, secret: string): string {
  return `${claim.subscriberId}.${claim.listId}.${mac(claim, secret).toString('base64url')}`;
}

/** The claim if the token was made with one of `secrets`, else null. Constant-time comparison. */
export function verifyUnsubscribeToken(token: string, secrets: readonly string[]): UnsubscribeClaim | null {
  const match = /^(\d{1,15})\.(\d{1,15})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!match) return null;
  const claim = { subscriberId: Number(match[1]), listId: Number(match[2]) };
  const given = Buffer.from(match[3]!, 'base64url');
  if (given.length !== MAC_BYTES) return null;
  let ok = false;
  for (const secret of secrets) {
    if (secret && timingSafeEqual(given, mac(claim, secret))) ok = true;
  }
  return ok ? claim : null;
}
