/**
 * The SES transport's CPU per SendRawEmail with the message handed over whole (the SDK encodes
 * it: base64, then URL-encoding) or in the message factory's pieces (the transport fills the
 * form field from per-piece encodings it keeps, src/ses/form-base64.ts) → bench/results/ses.md.
 *
 *   npx tsx bench/ses-body.ts [--messages N] [--rounds R]
 *
 * Everything of a send runs (message build, SDK middleware, serialization, signing, response
 * parsing) except the network: the client's request handler answers at once with SES's XML.
 * Two message sizes: the send bench's issue (~27 KB MIME) and the same issue with four times
 * the HTML (~87 KB). Rounds alternate the order of the two modes; the figure is this process's
 * CPU per message (process.cpuUsage), printed per round, then the median per size and mode.
 */
import { cpus } from 'node:os';
import { Readable } from 'node:stream';
import { HttpResponse } from '@smithy/core/transport';
import { SesTransport } from '../src/ses/ses-transport.js';
import { prepareMessages } from '../src/render/prepare-messages.js';
import { BENCH_ISSUE } from './bench-issue.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const MESSAGES = Number(arg('messages', '3000'));
const ROUNDS = Number(arg('rounds', '6'));

const ANSWER =
  '<SendRawEmailResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><SendRawEmailResult><MessageId>0100-bench</MessageId></SendRawEmailResult>' +
  '<ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata></SendRawEmailResponse>';

type Mode = 'whole' | 'pieces';

async function measure(scale: number, mode: Mode): Promise<{ kb: number; msPerMessage: number }> {
  const t = new SesTransport({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' });
  const handler = t.client.config.requestHandler as unknown as { handle: () => Promise<unknown> };
  handler.handle = () =>
    Promise.resolve({ response: new HttpResponse({ statusCode: 200, headers: { 'content-type': 'text/xml' }, body: Readable.from([Buffer.from(ANSWER)]) }) });
  const html = BENCH_ISSUE.htmlTemplate.replace(/<p>Lorem.*?<\/p>/, (p) => p.repeat(230 * (scale - 1) + 1));
  const factory = prepareMessages({ ...BENCH_ISSUE, htmlTemplate: html }, { from: 'Bench <bench@example.com>', listId: 'Newsletter <news.example.com>', campaignId: 1 });
  let bytes = 0;
  const send = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const m = factory.build({ subscriberId: i, email: `reader${i}@example.com`, name: 'Reader', unsubscribeUrl: `https://news.example.com/u/${i}` });
      bytes = m.parts ? m.parts.reduce((n, p) => n + p.length, 0) : m.raw.length;
      await t.sendRaw({ raw: mode === 'pieces' && m.parts ? m.parts : m.raw, from: 'bench@example.com', to: `reader${i}@example.com`, tags: { campaign: '1' } });
    }
  };
  await send(300); // warm-up: JIT, the SDK's middleware cache, the piece encodings
  const c0 = process.cpuUsage();
  await send(MESSAGES);
  const c = process.cpuUsage(c0);
  t.destroy();
  return { kb: bytes / 1024, msPerMessage: (c.user + c.system) / 1000 / MESSAGES };
}

const results = new Map<string, number[]>();
console.log(`SES transport CPU per SendRawEmail, ${MESSAGES} messages per measurement, ${cpus()[0]?.model.trim()} (${cpus().length} cores), Node ${process.version}`);
for (let r = 0; r < ROUNDS; r++) {
  for (const scale of [1, 4]) {
    for (const mode of (r % 2 === 0 ? ['whole', 'pieces'] : ['pieces', 'whole']) as Mode[]) {
      const { kb, msPerMessage } = await measure(scale, mode);
      const key = `${kb.toFixed(0)} KB ${mode}`;
      results.set(key, [...(results.get(key) ?? []), msPerMessage]);
      console.log(`round ${r + 1}: ${key}: ${msPerMessage.toFixed(3)} ms`);
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log('\n| message | whole (SDK encodes) | in pieces (transport) |\n|---|---|---|');
for (const key of results.keys()) {
  if (!key.endsWith('whole')) continue;
  const size = key.replace(' whole', '');
  console.log(`| ${size} | ${median(results.get(key)!).toFixed(3)} ms | ${median(results.get(`${size} pieces`) ?? [NaN]).toFixed(3)} ms |`);
}
