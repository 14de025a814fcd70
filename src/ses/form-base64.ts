/**
 * SendRawEmail carries the message as a form field: the MIME bytes in base64, URL-encoded
 * (`+`, `/` and `=` become `%2B`, `%2F`, `%3D`). The SDK builds that field per message as two
 * strings of ~1.4× the message size (the base64, then its URL-encoding), which on a 100 KB issue
 * are large-object allocations that only a full GC frees (issue #15).
 *
 * A campaign's messages, though, are mostly the same bytes: the message factory hands out a
 * message as a list of pieces (src/render/prepare-messages.ts), and the pieces that are the
 * same for every recipient (template stretches, MIME part heads) are the same Buffer objects
 * from one message to the next. base64 works on groups of 3 bytes, so a piece's encoding
 * depends only on where it starts within a group (0, 1 or 2 bytes of it go to completing the
 * previous piece's last group). This module encodes a list of pieces into the field's bytes,
 * keeping each large piece's encoding for each of the 3 starts: per message only the recipient's
 * own pieces and the few bytes at piece boundaries are encoded. Pure: no IO.
 */

/** Pieces shorter than this are encoded every time (the recipient's own values, boundaries). */
const CACHE_MIN_BYTES = 1024;

const NOTHING = Buffer.alloc(0);

/** A piece's full groups after skipping 0, 1 or 2 of its bytes, encoded for the form. */
type PieceEncodings = [Buffer | undefined, Buffer | undefined, Buffer | undefined];

/** The encodings of the pieces seen so far, dropped with the pieces (a campaign's factory going away). */
export type FormBase64Cache = WeakMap<Buffer, PieceEncodings>;

export function createFormBase64Cache(): FormBase64Cache {
  return new WeakMap();
}

/** base64, URL-encoded as a form value (what the SDK's query serializer produces for a blob). */
export function formBase64(bytes: Uint8Array): Buffer {
  const b64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  return Buffer.from(b64.replace(/[+/=]/g, (c) => (c === '+' ? '%2B' : c === '/' ? '%2F' : '%3D')), 'latin1');
}

/**
 * The form-encoded base64 of the concatenation of `pieces`, as a list of Buffers to
 * concatenate (cached ones are shared: do not modify them).
 */
export function formBase64Pieces(pieces: readonly Buffer[], cache: FormBase64Cache): Buffer[] {
  const out: Buffer[] = [];
  // Up to 2 bytes left over from the previous pieces, waiting for a full group.
  let carry: Buffer = NOTHING;
  for (const piece of pieces) {
    let skip = 0;
    if (carry.length > 0) {
      skip = Math.min(3 - carry.length, piece.length);
      carry = Buffer.concat([carry, piece.subarray(0, skip)]);
      if (carry.length < 3) continue;
      out.push(formBase64(carry));
      carry = NOTHING;
    }
    const full = piece.length - skip - ((piece.length - skip) % 3);
    if (full > 0) out.push(groupsOf(piece, skip, full, cache));
    carry = piece.subarray(skip + full);
  }
  if (carry.length > 0) out.push(formBase64(carry));
  return out;
}

function groupsOf(piece: Buffer, skip: number, length: number, cache: FormBase64Cache): Buffer {
  if (piece.length < CACHE_MIN_BYTES) return formBase64(piece.subarray(skip, skip + length));
  let encodings = cache.get(piece);
  if (!encodings) {
    encodings = [undefined, undefined, undefined];
    cache.set(piece, encodings);
  }
  return (encodings[skip] ??= formBase64(piece.subarray(skip, skip + length)));
}
