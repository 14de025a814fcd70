import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { assertEmailAddress, encodeUnstructured, encodeWords, formatAddress, formatRfc5322Date, parseAddress, qpEncode } from './mime.js';

/** Reference decoder (RFC 2045 §6.7), independent of the encoder. */
function qpDecode(s: string): string {
  const body = s.replace(/=\r\n/g, '').replace(/\r\n/g, '\n');
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '=') {
      bytes.push(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(body.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}
const decodeWords = (s: string): string =>
  s.replace(/\r\n /g, '').replace(/=\?UTF-8\?B\?([^?]*)\?=/g, (_m, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));

describe('qpEncode', () => {
  const samples = ['plain', 'a=b', 'trailing space \nnext', 'x'.repeat(1500), 'Zoë 東京 🚢 '.repeat(40), 'tab\tend\t', 'line1\r\nline2\n\n'];
  it.each(samples)('round-trips and keeps lines ≤ 76: %#', (s) => {
    const enc = qpEncode(s);
    expect(qpDecode(enc)).toBe(s.replace(/\r\n/g, '\n'));
    for (const line of enc.split('\r\n')) {
      expect(line.length).toBeLessThanOrEqual(76);
      expect(line).not.toMatch(/[ \t]$/);
    }
    expect(enc).toMatch(/^[\t\x20-\x7e\r\n]*$/);
  });

  it('soft-terminated pieces concatenate to the concatenation', () => {
    const parts = ['<a href="', 'https://x.example/u?a=1&b=2', '">Ünsubscribe </a>', ' ', 'end'];
    const enc = parts.map((p, i) => qpEncode(p, i < parts.length - 1)).join('');
    expect(qpDecode(enc)).toBe(parts.join(''));
  });
});

describe('headers', () => {
  it('encodes non-ASCII names as RFC 2047 words of at most 75 chars', () => {
    const name = 'Zoë Ñandú 東京の船長 '.repeat(6).trim();
    const header = formatAddress(name, 'zoe@example.com');
    for (const word of header.match(/=\?[^?]+\?B\?[^?]*\?=/g) ?? []) expect(word.length).toBeLessThanOrEqual(75);
    expect(decodeWords(header)).toBe(`${name} <zoe@example.com>`);
  });

  it('strips CR/LF and control characters from names and quotes specials', () => {
    const header = formatAddress('Eve\r\nBcc: victim@example.com <script>', 'eve@example.com');
    expect(header).not.toMatch(/[\r\n]/);
    expect(header).toBe('"Eve Bcc: victim@example.com <script>" <eve@example.com>');
    expect(formatAddress('Ana "the" \\ Ruiz', 'a@example.com')).toBe('"Ana \\"the\\" \\\\ Ruiz" <a@example.com>');
    expect(formatAddress(null, 'a@example.com')).toBe('a@example.com');
  });

  it('refuses addresses with CRLF, spaces or brackets', () => {
    for (const bad of ['a@example.com\r\nBcc: b@example.com', 'a b@example.com', '<a@example.com>', 'a@', 'Zoë@example.com']) {
      expect(() => assertEmailAddress(bad)).toThrow(InputError);
    }
  });

  it('encodes subjects: ASCII folded at spaces, others as encoded words', () => {
    expect(encodeUnstructured('Week Ending\r\nBcc: x')).toBe('Week Ending Bcc: x');
    const long = encodeUnstructured('word '.repeat(40).trim());
    expect(long.split('\r\n ').every((l) => l.length <= 78)).toBe(true);
    expect(decodeWords(encodeUnstructured('Crème brûlée weekly'))).toBe('Crème brûlée weekly');
    expect(encodeWords('=?looks?encoded?=')).toMatch(/^=\?UTF-8\?B\?/);
    const unbroken = encodeUnstructured('x'.repeat(2000));
    expect(Math.max(...unbroken.split('\r\n').map((l) => l.length))).toBeLessThanOrEqual(76);
    expect(decodeWords(unbroken)).toBe('x'.repeat(2000));
  });

  it('parses From values and formats RFC 5322 dates', () => {
    expect(parseAddress('LWKD <news@example.org>')).toEqual({ name: 'LWKD', email: 'news@example.org' });
    expect(parseAddress('news@example.org')).toEqual({ name: null, email: 'news@example.org' });
    expect(formatRfc5322Date(new Date(Date.UTC(2026, 10, 26, 5, 7, 3)))).toBe('Thu, 26 Nov 2026 05:07:03 +0000');
  });
});
