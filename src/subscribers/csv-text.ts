import { Transform, type TransformCallback } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/**
 * Decode UTF-8 and turn Windows line endings (CRLF) into LF. csv-parse counts lines
 * unreliably on CRLF input (a CR and an LF can each advance its counter), and we report
 * bad rows by line number, so the parser only ever sees LF. A CR at the end of a chunk is
 * held back until the next chunk shows whether an LF follows.
 */
export function crlfToLf(): Transform {
  const decoder = new StringDecoder('utf8');
  let pendingCr = false;
  return new Transform({
    decodeStrings: true,
    readableObjectMode: false,
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      let text = (pendingCr ? '\r' : '') + decoder.write(chunk);
      pendingCr = text.endsWith('\r');
      if (pendingCr) text = text.slice(0, -1);
      callback(null, text.replace(/\r\n/g, '\n'));
    },
    flush(callback: TransformCallback) {
      const rest = (pendingCr ? '\r' : '') + decoder.end();
      callback(null, rest.replace(/\r\n/g, '\n'));
    },
  });
}
