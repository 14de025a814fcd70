import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decodeCsvText } from './csv-text.js';

async function run(parts: Array<string | Buffer>): Promise<string> {
  let out = '';
  for await (const chunk of Readable.from(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))).pipe(decodeCsvText())) {
    out += String(chunk);
  }
  return out;
}

describe('decodeCsvText', () => {
  it('turns CRLF into LF, also when CR and LF arrive in different chunks', async () => {
    expect(await run(['a\r\nb\r', '\nc\r\n'])).toBe('a\nb\nc\n');
  });

  it('keeps a lone CR, including one at the very end', async () => {
    expect(await run(['a\rb\r', 'c\r'])).toBe('a\rb\rc\r');
  });

  it('decodes UTF-8 sequences split across chunks', async () => {
    const bytes = Buffer.from('é\r\nñ');
    expect(await run([bytes.subarray(0, 1), bytes.subarray(1, 3), bytes.subarray(3)])).toBe('é\nñ');
  });
});
