import { describe, expect, it } from 'vitest';
import { parseCsvEncoding, TextScanner } from './text-encoding.js';

/** Scan `data` in chunks of `size` bytes; the first problem, or the end-of-file check. */
function scan(data: Buffer, size: number, encoding: 'utf8' | 'latin1' = 'utf8') {
  const scanner = new TextScanner(encoding);
  for (let i = 0; i < data.length; i += size) {
    const problem = scanner.scan(data.subarray(i, i + size));
    if (problem) return problem;
  }
  return scanner.finish();
}

describe('TextScanner', () => {
  it('accepts UTF-8 whatever the chunk boundaries, emoji and BOM included', () => {
    const text = Buffer.from('\ufeffemail,name\nada@example.com,José Ñúñez 😀\nb@example.com,Zoë\n');
    for (const size of [1, 2, 3, 5, 64]) expect(scan(text, size)).toBeUndefined();
  });

  it('names the line of the first byte that is not UTF-8, across chunks', () => {
    const latin1 = Buffer.from('email,name\nada@example.com,Ada\njose@example.com,José\n', 'latin1');
    for (const size of [1, 4, 100]) expect(scan(latin1, size)).toEqual({ line: 3, message: expect.stringMatching(/^not valid UTF-8 \(byte 0xE9\)/) });
    expect(scan(latin1, 4, 'latin1')).toBeUndefined();
  });

  it('refuses overlong forms, surrogates, code points past U+10FFFF and a file ending inside a character', () => {
    for (const bad of [[0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xff]]) {
      expect(scan(Buffer.from([0x61, 0x0a, ...bad, 0x0a]), 1)?.line).toBe(2);
    }
    expect(scan(Buffer.from([0x61, 0xe2, 0x82]), 1)).toEqual({ line: 1, message: expect.stringMatching(/ends inside a character/) });
  });

  it('calls NUL bytes binary and spots UTF-16, in either encoding', () => {
    expect(scan(Buffer.from('a\nb\nc\0d'), 2)).toEqual({ line: 3, message: 'binary data (a NUL byte), not a CSV text file' });
    expect(scan(Buffer.from('a\0', 'latin1'), 8, 'latin1')?.message).toMatch(/binary/);
    expect(scan(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('email', 'utf16le')]), 8)?.message).toMatch(/UTF-16/);
  });
});

describe('parseCsvEncoding', () => {
  it('knows the usual names and refuses others naming the option', () => {
    expect(parseCsvEncoding('UTF-8')).toBe('utf8');
    expect(parseCsvEncoding('ISO-8859-1')).toBe('latin1');
    expect(parseCsvEncoding('cp1252')).toBe('latin1');
    expect(() => parseCsvEncoding('ebcdic', '--encoding')).toThrow('--encoding: unknown encoding "ebcdic" (use utf8 or latin1)');
  });
});
