import { Transform, type TransformCallback } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { InputError } from '../errors.js';
import { TextScanner, type CsvEncoding, type TextProblem } from './text-encoding.js';

export interface CsvTextOptions {
  /** How the file's bytes are encoded (default utf8; invalid UTF-8 is refused, never replaced). */
  encoding?: CsvEncoding;
  /** The file's name in error messages (`people.csv:3: …`). */
  source?: string;
}

/**
 * Bytes of a CSV file → text for the parser. Refuses what is not text in the given encoding
 * (binary data, UTF-16, invalid UTF-8) with an InputError naming the file and line, before
 * any of the offending chunk reaches the parser. Then turns Windows line endings (CRLF)
 * into LF: csv-parse counts lines unreliably on CRLF input (a CR and an LF can each advance
 * its counter), and we report bad rows by line number, so the parser only ever sees LF. A
 * CR at the end of a chunk is held back until the next chunk shows whether an LF follows.
 */
export function decodeCsvText(options: CsvTextOptions = {}): Transform {
  const encoding = options.encoding ?? 'utf8';
  const scanner = new TextScanner(encoding);
  const decoder = encoding === 'utf8' ? new StringDecoder('utf8') : new TextDecoder('latin1');
  const decode = (chunk?: Buffer) =>
    decoder instanceof StringDecoder ? (chunk ? decoder.write(chunk) : decoder.end()) : chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
  const refuse = (problem: TextProblem) => new InputError(problem.message, options.source ? `${options.source}:${problem.line}` : `line ${problem.line}`);
  let pendingCr = false;
  return new Transform({
    decodeStrings: true,
    readableObjectMode: false,
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      const problem = scanner.scan(chunk);
      if (problem) return callback(refuse(problem));
      let text = (pendingCr ? '\r' : '') + decode(chunk);
      pendingCr = text.endsWith('\r');
      if (pendingCr) text = text.slice(0, -1);
      callback(null, text.replace(/\r\n/g, '\n'));
    },
    flush(callback: TransformCallback) {
      const problem = scanner.finish();
      if (problem) return callback(refuse(problem));
      const rest = (pendingCr ? '\r' : '') + decode();
      callback(null, rest.replace(/\r\n/g, '\n'));
    },
  });
}
