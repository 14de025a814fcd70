/**
 * How many SendRawEmail calls per second the SES simulator accepts from the real
 * @aws-sdk/client-ses (through SesTransport) at concurrency 50, so the send
 * pipeline's benches know the simulator is not their bottleneck.
 *
 *   npx tsx bench/ses-simulator.ts [--messages N] [--concurrency C] [--size BYTES]
 *
 * Two set-ups: simulator in the same process as the client (how tests run it),
 * and simulator in its own process (`newsletter ses-simulator`, how a bench with
 * separate worker processes runs it). Prints a Markdown table row per run.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { SesTransport } from '../src/ses/ses-transport.js';
import { startSesSimulator } from '../src/simulator/ses-simulator.js';
import { startSimulatorProcess } from '../test/support/ses-simulator-process.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const MESSAGES = arg('messages', 20_000);
const CONCURRENCY = arg('concurrency', 50);
const SIZE = arg('size', 24_000);

function message(i: number): Buffer {
  const head = `From: Editor <editor@example.com>\r\nTo: reader${i}@example.com\r\nSubject: Issue 1\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), Buffer.alloc(Math.max(0, SIZE - head.length), 'x')]);
}

async function drive(endpoint: string, warmup = 500): Promise<{ perSecond: number; ms: number; failed: number; clientCpuMs: number }> {
  const transport = new SesTransport({ region: 'us-east-1', endpoint, maxSockets: CONCURRENCY });
  const body = message(0);
  let next = 0;
  let failed = 0;
  const run = async (limit: number) => {
    const lane = async () => {
      while (next < limit) {
        const i = next++;
        try {
          await transport.sendRaw({ raw: body, from: 'editor@example.com', to: `reader${i}@example.com`, tags: { campaign: 'bench', subscriber: String(i) } });
        } catch {
          failed++;
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  };
  await run(warmup); // JIT, sockets
  next = 0;
  failed = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run(MESSAGES);
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  transport.destroy();
  return { perSecond: MESSAGES / (ms / 1000), ms, failed, clientCpuMs: (used.user + used.system) / 1000 / MESSAGES };
}

/** The same SendRawEmail requests without the SDK (pre-encoded body): the simulator's own capacity. */
async function driveRaw(endpoint: string): Promise<{ perSecond: number; ms: number; failed: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const body = new URLSearchParams({
    Action: 'SendRawEmail',
    Version: '2010-12-01',
    'RawMessage.Data': message(0).toString('base64'),
    Source: 'editor@example.com',
    'Destinations.member.1': 'reader@example.com',
    'Tags.member.1.Name': 'campaign',
    'Tags.member.1.Value': 'bench',
  }).toString();
  const { hostname, port } = new URL(endpoint);
  const one = () =>
    new Promise<boolean>((resolve) => {
      const req = request(
        { agent, host: hostname, port, method: 'POST', path: '/', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode === 200));
        },
      );
      req.on('error', () => resolve(false));
      req.end(body);
    });
  let next = 0;
  let failed = 0;
  const lane = async () => {
    while (next < MESSAGES) {
      next++;
      if (!(await one())) failed++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  const ms = performance.now() - started;
  agent.destroy();
  return { perSecond: MESSAGES / (ms / 1000), ms, failed };
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const rows: string[] = [];

{
  const sim = await startSesSimulator({ maxSendRate: 1e9, max24HourSend: 1e9, keepRaw: false });
  const r = await drive(sim.url);
  const s = sim.stats();
  rows.push(`| in-process, real SDK client | ${MESSAGES} | ${CONCURRENCY} | ${SIZE} | ${Math.round(r.perSecond)} | ${(r.ms / 1000).toFixed(2)} | ${r.failed + (s.accepted === MESSAGES + 500 ? 0 : NaN)} | (shared) | ${r.clientCpuMs.toFixed(2)} (both) |`);
  await sim.close();
}

{
  const { child, url } = await startSimulatorProcess(['--rate', '1000000000', '--quota', '1000000000'], 'inherit');
  let cpu0 = cpuSeconds(child.pid!);
  const r = await drive(url);
  const cpuSdk = cpuSeconds(child.pid!) - cpu0;
  cpu0 = cpuSeconds(child.pid!);
  const raw = await driveRaw(url);
  const cpuRaw = cpuSeconds(child.pid!) - cpu0;
  const stats = (await (await fetch(`${url}/_simulator/stats`)).json()) as { accepted: number };
  rows.push(`| separate process, real SDK client | ${MESSAGES} | ${CONCURRENCY} | ${SIZE} | ${Math.round(r.perSecond)} | ${(r.ms / 1000).toFixed(2)} | ${r.failed} | ${((cpuSdk / MESSAGES) * 1000).toFixed(2)} | ${r.clientCpuMs.toFixed(2)} |`);
  rows.push(`| separate process, plain HTTP client | ${MESSAGES} | ${CONCURRENCY} | ${SIZE} | ${Math.round(raw.perSecond)} | ${(raw.ms / 1000).toFixed(2)} | ${raw.failed} | ${((cpuRaw / MESSAGES) * 1000).toFixed(2)} | n/a |`);
  if (stats.accepted !== 2 * MESSAGES + 500) rows.push(`| (recorded ${stats.accepted}, expected ${2 * MESSAGES + 500}) |`);
  child.kill('SIGTERM');
  await once(child, 'exit');
}

console.log('| set-up | messages | concurrency | bytes/message | accepted/s | seconds | failed | simulator CPU ms/message | client CPU ms/message |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
