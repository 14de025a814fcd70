/**
 * The bare SES client, as a child process of `bench/send.ts --compare-sdk`: the real
 * `@aws-sdk/client-ses` through SesTransport (the product's client settings: keep-alive
 * agents, maxAttempts 1, cached middleware; no deadline), SendRawEmail of the message the
 * pipeline builds for the bench issue (same size and structure), `--concurrency` calls in
 * flight, nothing else: no queue, no database, no rate limiter.
 *
 *   node --import tsx bench/sdk-client.ts --endpoint URL --messages N --concurrency C [--first ID] [--v2]
 *
 * Waits for a line on stdin before the measured part (so several clients start together),
 * prints one JSON line: {messages, ms, cpuMs, failed}. CPU is this process's own
 * (process.cpuUsage) over the measured part only; the warm-up is excluded.
 * --v2: `@aws-sdk/client-sesv2` SendEmail with Content.Raw instead (bench/results/ses.md).
 */
import { createInterface } from 'node:readline';
import { Agent } from 'node:http';
import { SesTransport } from '../src/ses/ses-transport.js';
import { prepareCampaignMessages } from '../src/campaigns/campaign-message.js';
import { BENCH_ISSUE, BENCH_SENDER } from './bench-issue.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const endpoint = arg('endpoint', '');
const MESSAGES = Number(arg('messages', '10000'));
const CONCURRENCY = Number(arg('concurrency', '50'));
const FIRST = Number(arg('first', '1'));
const WARMUP = Number(arg('warmup', '500'));
const V2 = args.includes('--v2');

const messages = prepareCampaignMessages({ campaignId: 1, listId: 1, issueSlug: 'bench', compiled: BENCH_ISSUE }, { ...BENCH_SENDER, unsubscribeSecret: 'x'.repeat(32) });
// One realistic message per lane, built before the measurement: the bare client pays no MIME.
const bodies = Array.from({ length: CONCURRENCY }, (_, i) => messages.build({ id: FIRST + i, email: `reader${FIRST + i}@example.com`, name: `Reader ${FIRST + i}` }).raw);

type Send = (raw: Buffer, to: string, subscriber: number) => Promise<unknown>;
let send: Send;
let destroy: () => void;
if (V2) {
  const { SESv2Client, SendEmailCommand } = await import('@aws-sdk/client-sesv2');
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const client = new SESv2Client({
    region: 'us-east-1', endpoint, maxAttempts: 1, cacheMiddleware: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    requestHandler: { httpAgent: agent, connectionTimeout: 3000, requestTimeout: 15000 },
  });
  send = (raw, to, subscriber) => client.send(new SendEmailCommand({
    FromEmailAddress: 'bench@example.com',
    Destination: { ToAddresses: [to] },
    Content: { Raw: { Data: raw } },
    EmailTags: [{ Name: 'campaign', Value: '1' }, { Name: 'subscriber', Value: String(subscriber) }],
  }));
  destroy = () => client.destroy();
} else {
  const transport = new SesTransport({ region: 'us-east-1', endpoint, maxSockets: CONCURRENCY, requestTimeoutMs: 15_000 });
  send = (raw, to, subscriber) => transport.sendRaw({ raw, from: 'bench@example.com', to, tags: { campaign: '1', subscriber: String(subscriber) } });
  destroy = () => transport.destroy();
}

async function run(first: number, count: number): Promise<number> {
  let next = 0;
  let failed = 0;
  const lane = async (k: number) => {
    while (next < count) {
      const id = first + next++;
      try {
        await send(bodies[k]!, `reader${id}@example.com`, id);
      } catch (err) {
        if (failed++ === 0) console.error(`sdk-client: ${String(err)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, k) => lane(k)));
  return failed;
}

await run(1_000_000_000 + FIRST, WARMUP); // JIT, sockets; other recipients than the measured ones
console.log('ready');
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const failed = await run(FIRST, MESSAGES);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
destroy();
console.log(JSON.stringify({ messages: MESSAGES, ms, cpuMs: (cpu.user + cpu.system) / 1000, failed }));
process.exit(0);
