/**
 * Is a configured HMAC secret strong enough to sign links? Pure: a value in, a verdict out.
 *
 * Whoever knows UNSUBSCRIBE_SECRET (or SIGNUP_SECRET) can sign links for every subscriber
 * id, and ids are sequential: mass-unsubscribe, confirm strangers' sign-ups, resubscribe
 * people who left. So serve and worker refuse to start with a guessable one.
 *
 * The entropy of a string cannot be measured, only bounded from above: we estimate it as
 * length × log2(size of the character classes it uses) (hex digits alone count 4 bits per
 * character) and ask for 256 bits, i.e. what `openssl rand -base64 32` (44 characters) or
 * `openssl rand -hex 32` (64) gives. Values that pass that estimate but are obviously not
 * random are refused too: known placeholders, one character repeated, a short pattern
 * repeated, too few distinct characters.
 */
export const MIN_SECRET_BITS = 256;

export const MAKE_SECRET_HINT = 'make one with: openssl rand -base64 32';

export type SecretVerdict = { ok: true } | { ok: false; reason: string };

/** Words that mark a value copied from an example rather than generated. */
const PLACEHOLDER = /change[-_ ]?me|changeme|replace[-_ ]?me|placeholder|example|your[-_ ]?secret|long[-_ ]random|random[-_ ]string|secret[-_]?key|password/i;

/** Estimated bits of entropy: an upper bound for random-looking text, far above it for words. */
export function estimatedSecretBits(value: string): number {
  if (value.length === 0) return 0;
  if (/^[0-9a-f]+$/.test(value) || /^[0-9A-F]+$/.test(value)) return value.length * 4;
  let alphabet = 0;
  if (/[a-z]/.test(value)) alphabet += 26;
  if (/[A-Z]/.test(value)) alphabet += 26;
  if (/[0-9]/.test(value)) alphabet += 10;
  if (/[^A-Za-z0-9]/.test(value)) alphabet += 32;
  return value.length * Math.log2(alphabet);
}

/** The shortest unit that, repeated, makes up the value (the value itself when none). */
function repeatingUnit(value: string): string {
  for (let size = 1; size <= value.length / 2; size++) {
    if (value.length % size !== 0) continue;
    const unit = value.slice(0, size);
    if (unit.repeat(value.length / size) === value) return unit;
  }
  return value;
}

export function assessSecret(value: string): SecretVerdict {
  if (PLACEHOLDER.test(value)) return { ok: false, reason: 'looks like a placeholder copied from an example' };
  const unit = repeatingUnit(value);
  if (unit.length < value.length) return { ok: false, reason: `is "${unit.length > 8 ? `${unit.slice(0, 8)}…` : unit}" repeated, not random` };
  const distinct = new Set(value).size;
  if (distinct < 12) return { ok: false, reason: `uses only ${distinct} distinct characters, not random` };
  const bits = Math.floor(estimatedSecretBits(value));
  if (bits < MIN_SECRET_BITS) {
    return { ok: false, reason: `is too short to hold ${MIN_SECRET_BITS / 8} random bytes (${value.length} characters, about ${bits} bits at most; 44 base64 or 64 hex characters are needed)` };
  }
  return { ok: true };
}
