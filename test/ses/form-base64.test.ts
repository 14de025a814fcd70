/**
 * The SendRawEmail form field built from a message's pieces (src/ses/form-base64.ts) is the
 * field the SDK builds from the whole message, whatever the piece boundaries, and the
 * encodings of large pieces are kept and reused.
 */
import { describe, expect, it } from 'vitest';
import { createFormBase64Cache, formBase64, formBase64Pieces } from '../../src/ses/form-base64.js';

/** Deterministic bytes (xorshift), so a failure reproduces. */
function bytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** What the SDK's query serializer writes for a blob: base64, then encodeURIComponent. */
const sdkField = (raw: Buffer): string => encodeURIComponent(raw.toString('base64'));

describe('form-encoded base64 from pieces', () => {
  it('equals the encoding of the whole message for every alignment of small and large pieces', () => {
    const cache = createFormBase64Cache();
    // Large pieces shared between messages (as a campaign's template stretches are), with
    // recipient pieces of every length mod 3 (and empty ones) between them.
    const fixed = [bytes(4000, 1), bytes(1024, 2), bytes(2501, 3), bytes(70_001, 4)];
    for (let a = 0; a < 4; a++) {
      for (let b = 0; b < 5; b++) {
        const pieces = [bytes(a, 10 + a), fixed[0]!, bytes(b, 20 + b), fixed[1]!, bytes(1, 30), bytes(0, 0), fixed[2]!, bytes(a + b, 40), fixed[3]!, bytes(b, 50)];
        const whole = Buffer.concat(pieces);
        const field = Buffer.concat(formBase64Pieces(pieces, cache)).toString('latin1');
        expect(field, `recipient pieces of ${a} and ${b} bytes`).toBe(sdkField(whole));
      }
    }
  });

  it('keeps each large piece encoded once per alignment and reuses it', () => {
    const cache = createFormBase64Cache();
    const template = bytes(3000, 7);
    const first = formBase64Pieces([bytes(2, 1), template], cache);
    const second = formBase64Pieces([bytes(5, 2), template], cache);
    // Both messages start the template one byte into a group: the same encoded Buffer.
    expect(second.find((b) => first.includes(b))).toBeDefined();
    const other = formBase64Pieces([bytes(3, 3), template], cache);
    // Starting on a group boundary is another encoding, also correct.
    expect(other.some((b) => first.includes(b))).toBe(false);
    expect(Buffer.concat(other).toString('latin1')).toBe(sdkField(Buffer.concat([bytes(3, 3), template])));
  });

  it('formBase64 escapes exactly +, / and = (the only base64 characters a form value must escape)', () => {
    const raw = Buffer.from([0xfb, 0xff, 0xbf, 0x3e, 0x00]);
    expect(raw.toString('base64')).toBe('+/+/PgA=');
    expect(formBase64(raw).toString('latin1')).toBe('%2B%2F%2B%2FPgA%3D');
  });
});
