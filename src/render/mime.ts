/**
 * MIME building blocks, written for speed: the send path assembles messages from parts
 * prepared once per issue, so these run per recipient only on small values.
 */
import { InputError } from '../errors.js';

const HEX = '0123456789ABCDEF';

/**
 * Quoted-printable (RFC 2045 §6.7) of a UTF-8 string, starting at column 0. Line breaks in
 * the input become CRLF hard breaks; lines are soft-broken at 76 columns. With `soft` the
 * output ends in a soft break, so encoded pieces can be concatenated and decode to the
 * concatenation of their inputs.
 */
export function qpEncode(text: string, soft = false): string {
  const bytes = Buffer.from(text, 'utf8');
  let out = '';
  let line = '';
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const b = bytes[i] as number;
    if (b === 0x0a || (b === 0x0d && bytes[i + 1] === 0x0a)) {
      if (b === 0x0d) i++;
      out += line + '\r\n';
      line = '';
      continue;
    }
    let enc: string;
    if ((b >= 33 && b <= 126 && b !== 61) || ((b === 32 || b === 9) && i + 1 < n && bytes[i + 1] !== 0x0a && bytes[i + 1] !== 0x0d)) {
      enc = String.fromCharCode(b);
    } else if ((b === 32 || b === 9) && i + 1 >= n && soft) {
      enc = String.fromCharCode(b); // followed by our soft break, so not at a line end
    } else {
      enc = '=' + HEX[b >> 4] + HEX[b & 15];
    }
    if (line.length + enc.length > 75) {
      out += line + '=\r\n';
      line = '';
    }
    line += enc;
  }
  out += line;
  if (soft && line.length > 0) out += '=\r\n';
  return out;
}

/** Control characters (CR, LF, NUL, …) never reach a header: they are how headers get injected. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;
export function stripControl(value: string): string {
  return value.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
}

const NEEDS_ENCODING = /[^\u0020-\u007e]|=\?/;

/** RFC 2047 encoded words (base64, ≤ 75 chars each, split on character boundaries), folded. */
export function encodeWords(value: string, force = false): string {
  if (!force && !NEEDS_ENCODING.test(value)) return value;
  const words: string[] = [];
  let chunk = '';
  let chunkBytes = 0;
  for (const ch of value) {
    const len = Buffer.byteLength(ch);
    if (chunkBytes + len > 45) {
      words.push(`=?UTF-8?B?${Buffer.from(chunk).toString('base64')}?=`);
      chunk = '';
      chunkBytes = 0;
    }
    chunk += ch;
    chunkBytes += len;
  }
  if (chunk) words.push(`=?UTF-8?B?${Buffer.from(chunk).toString('base64')}?=`);
  return words.join('\r\n ');
}

/** An unstructured header value (Subject): control chars removed, encoded when not plain ASCII, folded. */
export function encodeUnstructured(value: string): string {
  const clean = stripControl(value);
  // Encoded words also split a run without spaces that could not be folded under 998 octets.
  if (NEEDS_ENCODING.test(clean) || /\S{900}/.test(clean)) return encodeWords(clean, true);
  return foldAtSpaces(clean, 'Subject: '.length);
}

function foldAtSpaces(value: string, firstLineUsed: number): string {
  if (value.length + firstLineUsed <= 78) return value;
  const words = value.split(' ');
  let out = '';
  let lineLen = firstLineUsed;
  for (const w of words) {
    if (out === '') {
      out = w;
      lineLen += w.length;
    } else if (lineLen + 1 + w.length > 78) {
      out += '\r\n ' + w;
      lineLen = 1 + w.length;
    } else {
      out += ' ' + w;
      lineLen += 1 + w.length;
    }
  }
  return out;
}

const ATEXT_PHRASE = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+$/;
// Conservative: ASCII only (no SMTPUTF8), no spaces, quotes, brackets or control characters.
const ADDRESS = /^[A-Za-z0-9.!#$%&'*+\-/=?^_`{|}~]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/** Throws InputError for anything that is not a plain ASCII addr-spec (refuses, never repairs). */
export function assertEmailAddress(email: string, what = 'email address'): string {
  if (email.length > 254 || !ADDRESS.test(email)) throw new InputError(`invalid ${what}: ${JSON.stringify(email.slice(0, 80))}`);
  return email;
}

/** `Name <addr>` with the display name quoted or RFC 2047-encoded as needed. */
export function formatAddress(name: string | null | undefined, email: string): string {
  assertEmailAddress(email);
  const clean = name ? stripControl(name).slice(0, 200) : '';
  if (!clean) return email;
  let phrase: string;
  if (NEEDS_ENCODING.test(clean)) phrase = encodeWords(clean);
  else if (ATEXT_PHRASE.test(clean)) phrase = clean;
  else phrase = `"${clean.replace(/[\\"]/g, '\\$&')}"`;
  return `${phrase} <${email}>`;
}

/** Parse `Name <addr>` or a bare address. */
export function parseAddress(value: string): { name: string | null; email: string } {
  const m = /^\s*(.*?)\s*<([^<>]+)>\s*$/.exec(value);
  if (m) {
    const name = (m[1] ?? '').replace(/^"(.*)"$/, '$1').replace(/\\(.)/g, '$1');
    return { name: name || null, email: assertEmailAddress((m[2] as string).trim(), 'From address') };
  }
  return { name: null, email: assertEmailAddress(value.trim(), 'From address') };
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** RFC 5322 date-time in UTC: `Thu, 26 Nov 2026 15:17:03 +0000`. */
export function formatRfc5322Date(d: Date): string {
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** A URL that may go inside `<…>` in a header: absolute, no whitespace, brackets or control chars. */
export function assertHeaderUrl(url: string, schemes: RegExp, what: string): string {
  // eslint-disable-next-line no-control-regex
  if (url.length > 900 || !schemes.test(url) || /[\s<>"\u0000-\u001f\u007f]/.test(url)) {
    throw new InputError(`invalid ${what}: ${JSON.stringify(url.slice(0, 80))}`);
  }
  return url;
}

/** Quoted-printable (RFC 2045) back to text: soft breaks removed, `=XX` to bytes, UTF-8, CRLF → LF. */
export function qpDecode(qp: string): string {
  const unfolded = qp.replace(/=\r?\n/g, '');
  const out = Buffer.allocUnsafe(unfolded.length);
  let n = 0;
  for (let i = 0; i < unfolded.length; i++) {
    const c = unfolded.charCodeAt(i);
    if (c === 61 && i + 2 < unfolded.length && /^[0-9A-Fa-f]{2}$/.test(unfolded.slice(i + 1, i + 3))) {
      out[n++] = parseInt(unfolded.slice(i + 1, i + 3), 16);
      i += 2;
    } else {
      out[n++] = c & 0xff;
    }
  }
  return out.subarray(0, n).toString('utf8').replace(/\r\n/g, '\n');
}

/**
 * The text and HTML parts of a message as prepareMessages builds it (one multipart/alternative,
 * both parts quoted-printable), decoded: what a mail client shows. For previews, which show
 * the built message itself rather than a second rendering of the templates.
 */
export function alternativeParts(raw: Buffer): { text: string; html: string } {
  const message = raw.toString('latin1');
  const boundary = /boundary="([^"]+)"/.exec(message)?.[1];
  if (!boundary) throw new InputError('not a multipart/alternative message');
  const parts: Record<string, string> = {};
  for (const section of message.split(`--${boundary}`).slice(1)) {
    const split = section.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const type = /Content-Type: (text\/(?:plain|html))/i.exec(section.slice(0, split))?.[1]?.toLowerCase();
    if (!type) continue;
    // The CRLF before the next delimiter belongs to the delimiter (RFC 2046).
    parts[type] = qpDecode(section.slice(split + 4).replace(/\r\n$/, ''));
  }
  if (parts['text/plain'] === undefined || parts['text/html'] === undefined) throw new InputError('message lacks its text or HTML part');
  return { text: parts['text/plain'], html: parts['text/html'] };
}
