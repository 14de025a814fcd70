/**
 * Pure checks on the bytes of an uploaded CSV before they are decoded: is it text at all
 * (no NUL bytes, not UTF-16), and is it valid in the encoding it claims. Decoding invalid
 * UTF-8 silently turns every accented letter into U+FFFD, so a Latin-1 file would import
 * with its names damaged; we refuse it instead, naming the line, unless the caller says
 * the file is Latin-1.
 */
import { isUtf8 } from 'node:buffer';
import { InputError } from '../errors.js';

/**
 * `utf8` (the default) or `latin1`: ISO-8859-1, with bytes 0x80–0x9F read as Windows-1252
 * (curly quotes, €), as spreadsheets write it. That is what WHATWG's "latin1" label means.
 */
export type CsvEncoding = 'utf8' | 'latin1';

const ENCODING_NAMES: Record<string, CsvEncoding> = {
  utf8: 'utf8',
  'utf-8': 'utf8',
  latin1: 'latin1',
  'latin-1': 'latin1',
  'iso-8859-1': 'latin1',
  'windows-1252': 'latin1',
  cp1252: 'latin1',
};

/** An encoding name as a user types it; InputError naming `what` (e.g. `--encoding`) otherwise. */
export function parseCsvEncoding(name: string, what = 'encoding'): CsvEncoding {
  const encoding = ENCODING_NAMES[name.trim().toLowerCase()];
  if (!encoding) throw new InputError(`unknown encoding "${name.slice(0, 40)}" (use utf8 or latin1)`, what);
  return encoding;
}

/** Why the bytes are not acceptable, and on which line (1-based) the first bad byte is. */
export interface TextProblem {
  line: number;
  message: string;
}

/**
 * Scans a file's bytes chunk by chunk (sequences may straddle chunks) and reports the first
 * problem: a NUL byte (binary data, never CSV text), a UTF-16 byte order mark, or (for
 * UTF-8) an invalid or truncated sequence. Messages quote at most one byte, in hex, so
 * nothing binary is echoed back.
 */
export class TextScanner {
  /** Newlines in the chunks before the current one. */
  private linesBefore = 0;
  private started = false;
  /** UTF-8 state: continuation bytes still expected, and the range allowed for the next one. */
  private need = 0;
  /** The first byte of the sequence being read (the byte a message names). */
  private lead = 0;
  private lower = 0x80;
  private upper = 0xbf;

  constructor(private readonly encoding: CsvEncoding) {}

  scan(chunk: Uint8Array): TextProblem | undefined {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (!this.started && buf.length > 0) {
      this.started = true;
      if ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff)) {
        return { line: 1, message: 'the file is UTF-16; save it as UTF-8 (CSV UTF-8) and import it again' };
      }
    }
    const nul = buf.indexOf(0);
    const bad = this.encoding === 'utf8' ? this.firstInvalidUtf8(buf) : -1;
    const at = nul >= 0 && (bad < 0 || nul <= bad) ? nul : bad;
    if (at >= 0) {
      const line = this.linesBefore + countNewlines(buf, at) + 1;
      if (at === nul) return { line, message: 'binary data (a NUL byte), not a CSV text file' };
      const byte = `0x${this.lead.toString(16).toUpperCase().padStart(2, '0')}`;
      return { line, message: `not valid UTF-8 (byte ${byte}); save the file as UTF-8, or import it with --encoding latin1 if it is Latin-1` };
    }
    this.linesBefore += countNewlines(buf, buf.length);
    return undefined;
  }

  /** At the end of the input: a UTF-8 sequence cut off by the end of the file. */
  finish(): TextProblem | undefined {
    if (this.need === 0) return undefined;
    return { line: this.linesBefore + 1, message: 'not valid UTF-8 (the file ends inside a character)' };
  }

  /** Offset of the first byte that makes the UTF-8 invalid, or -1 (an unfinished sequence at the end carries over). */
  private firstInvalidUtf8(buf: Buffer): number {
    // Fast path: the common all-valid chunk, checked natively.
    if (this.need === 0 && isUtf8(buf)) return -1;
    for (let i = 0; i < buf.length; i++) {
      const b = buf[i]!;
      if (this.need > 0) {
        if (b < this.lower || b > this.upper) return i;
        this.need--;
        this.lower = 0x80;
        this.upper = 0xbf;
        continue;
      }
      if (b < 0x80) continue;
      this.lead = b;
      if (b >= 0xc2 && b <= 0xdf) this.expect(1, 0x80, 0xbf);
      else if (b === 0xe0) this.expect(2, 0xa0, 0xbf);
      else if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) this.expect(2, 0x80, 0xbf);
      else if (b === 0xed) this.expect(2, 0x80, 0x9f); // no UTF-16 surrogates
      else if (b === 0xf0) this.expect(3, 0x90, 0xbf);
      else if (b >= 0xf1 && b <= 0xf3) this.expect(3, 0x80, 0xbf);
      else if (b === 0xf4) this.expect(3, 0x80, 0x8f); // nothing above U+10FFFF
      else return i;
    }
    return -1;
  }

  private expect(need: number, lower: number, upper: number): void {
    this.need = need;
    this.lower = lower;
    this.upper = upper;
  }
}

function countNewlines(buf: Buffer, end: number): number {
  let n = 0;
  for (let i = buf.indexOf(0x0a); i >= 0 && i < end; i = buf.indexOf(0x0a, i + 1)) n++;
  return n;
}
