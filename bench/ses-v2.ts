/**
 * What the SES v2 client costs per message against the v1 client, as information for a later
 * decision (issue #15; the product stays on `@aws-sdk/client-ses`) → bench/results/ses.md.
 *
 *   npx tsx bench/ses-v2.ts [--messages N] [--concurrency C] [--repeat K]
 *
 * Both clients as a separate process (bench/sdk-client.ts), one after the other, K times
 * alternating, each sending the send bench's message (bench/bench-issue.ts, ~28 KB MIME) with
 * the same client settings (keep-alive agent, maxAttempts 1, cached middleware):
 *  - v1: `@aws-sdk/client-ses` SendRawEmail (Query protocol: form-encoded base64 body);
 *  - v2: `@aws-sdk/client-sesv2` SendEmail with Content.Raw (REST-JSON: base64 in a JSON body).
 * Against aws-ses-v2-local (a dev dependency already), the one local server here that answers
 * both APIs; our strict simulator (src/simulator) speaks only v1. The server runs in this
 * process, so the client's CPU (its own process.cpuUsage over the measured part) is clean.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { freePort } from '../src/demo/local-services.js';

const ROOT = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const MESSAGES = Number(arg('messages', '4000'));
const CONCURRENCY = Number(arg('concurrency', '50'));
const REPEAT = Number(arg('repeat', '2'));

const mod = (await import('aws-ses-v2-local')) as unknown as { default: ((c: { host: string; port: number }) => Promise<Server>) | { default: (c: { host: string; port: number }) => Promise<Server> } };
const start = typeof mod.default === 'function' ? mod.default : mod.default.default;
const port = await freePort();
const server = await start({ host: '127.0.0.1', port });
const endpoint = `http://127.0.0.1:${port}`;

async function client(v2: boolean): Promise<{ rate: number; cpuMs: number; failed: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/sdk-client.ts'), '--endpoint', endpoint, '--messages', String(MESSAGES), '--concurrency', String(CONCURRENCY), ...(v2 ? ['--v2'] : [])], {
    cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    out += d;
    if (out.includes('ready') && !child.stdin!.writableEnded) child.stdin!.end('go\n');
  });
  await new Promise((resolve) => child.once('exit', resolve));
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`sdk-client said: ${out}`);
  const r = JSON.parse(line) as { messages: number; ms: number; cpuMs: number; failed: number };
  return { rate: (r.messages * 1000) / r.ms, cpuMs: r.cpuMs / r.messages, failed: r.failed };
}

const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? '?';
console.log(`CPU: ${cpuModel} (${cpus().length} cores), Node ${process.version}; ${MESSAGES} messages × concurrency ${CONCURRENCY} per run; server aws-ses-v2-local in the bench process.`);
console.log('');
console.log('| run | client | msg/s | client CPU ms/message | failed | load avg |');
console.log('|---|---|---|---|---|---|');
for (let k = 1; k <= REPEAT; k++) {
  for (const v2 of [false, true]) {
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
    const r = await client(v2);
    console.log(`| ${k} | ${v2 ? 'v2 SendEmail (Content.Raw)' : 'v1 SendRawEmail'} | ${Math.round(r.rate)} | ${r.cpuMs.toFixed(2)} | ${r.failed} | ${load} |`);
  }
}
server.close();
process.exit(0);
