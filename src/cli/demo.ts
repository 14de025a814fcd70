/**
 * `npm run demo` / `newsletter demo [--serve] [--data-dir DIR] [--rate N]`: the whole
 * pipeline on one machine with nothing to set up but Redis. SQLite in a temp dir, SES =
 * aws-ses-v2-local in-process, Redis = REDIS_URL or a throwaway redis-server; imports
 * examples/demo-subscribers.csv, compiles the sample issue, creates and sends the campaign
 * through the HTTP API with an in-process worker, feeds the simulated SES events through
 * the signed webhook, prints the final stats and the dashboard URL.
 * Exit codes: 0 done and the counts match the simulator addresses, 1 they do not, 2 no Redis.
 */
import { createReadStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { requireSigningSecrets } from '../secrets/signing-secrets.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { mailboxOutcome } from '../simulator/mailbox-simulator.js';
import type { StartedRedis } from '../demo/local-services.js';
import { redisKeys } from '../queue/redis-keys.js';

const EXAMPLES = resolve(import.meta.dirname, '../../examples');
const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:newsletter-demo-events';
const COUNTERS = ['total', 'queued', 'sent', 'delivered', 'bounced', 'complained', 'unsubscribed', 'failed', 'opened', 'clicked'] as const;

interface DemoOptions {
  serve?: boolean;
  dataDir?: string;
  rate: string;
  port?: string;
  keep?: boolean;
}

/** What the simulator addresses in a CSV should produce. Pure. */
export function expectedOutcomes(csv: string): { delivered: number; bounced: number; complained: number; total: number } {
  const out = { delivered: 0, bounced: 0, complained: 0, total: 0 };
  for (const line of csv.split(/\r?\n/).slice(1)) {
    const email = line.split(',')[0]?.trim();
    if (!email) continue;
    out.total++;
    const outcome = mailboxOutcome(email);
    if (outcome === 'success' || outcome === 'ooto') out.delivered++;
    else if (outcome === 'bounce' || outcome === 'suppressionlist') out.bounced++;
    else if (outcome === 'complaint') out.complained++;
  }
  return out;
}

function sampleIssue(): string {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.md')).sort();
  if (files.length === 0) throw new Error(`no sample issue (*.md) in ${EXAMPLES}`);
  return join(EXAMPLES, files[0]!);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function formatStatsTable(stats: Record<string, unknown>): string {
  const rows = COUNTERS.map((k) => `  ${k.padEnd(13)}${String(stats[k]).padStart(8)}`);
  rows.push(`  ${'rate_per_s'.padEnd(13)}${String(stats.rate_per_s).padStart(8)}`);
  rows.push(`  ${'status'.padEnd(13)}${String(stats.status).padStart(8)}`);
  return rows.join('\n');
}

/**
 * The AWS SDK warns on every start that its 2027 releases need Node 22; on the demo's
 * terminal that reads like an error. Keep every other warning.
 */
function quietSdkNodeVersionWarning(): void {
  const listeners = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (w.name === 'NodeVersionSupportWarning' || w.message.startsWith('NodeVersionSupportWarning')) return;
    for (const l of listeners) l(w);
  });
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  quietSdkNodeVersionWarning();
  // Loaded when the demo runs, not when the CLI starts (src/cli/main.ts).
  const [{ openAppContext }, { buildServer }, { createSnsSigningIdentity }, { freePort, redisAnswers, startLocalSes, startRedisServer, which }, { NotificationFeeder }, { startWorkerRuntime }] =
    await Promise.all([
      import('../app-context.js'),
      import('../http/server.js'),
      import('../simulator/sns-signer.js'),
      import('../demo/local-services.js'),
      import('../demo/notification-feeder.js'),
      import('../../workers/runtime.js'),
    ]);
  const started = Date.now();
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const dataDir = opts.dataDir ? resolve(opts.dataDir) : mkdtempSync(join(tmpdir(), 'newsletter-demo-'));
  mkdirSync(dataDir, { recursive: true });
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  };

  try {
    // ── Redis ────────────────────────────────────────────────────────────────
    // The user's own configuration: where their Redis is, where redis-server might be.
    const userConfig = loadConfig();
    const envRedis = userConfig.REDIS_URL;
    let redisUrl = envRedis;
    let redisNote = `${envRedis} (REDIS_URL)`;
    let sharedRedis = true;
    if (!(await redisAnswers(envRedis))) {
      const binary = which('redis-server', userConfig.PATH);
      if (!binary) {
        process.stderr.write(
          `newsletter demo: no Redis answers at ${envRedis} and there is no redis-server on PATH.\n` +
            '  Start one with:  docker compose up -d redis\n  (or install redis-server, or set REDIS_URL), then run npm run demo again.\n',
        );
        return 2;
      }
      const started: StartedRedis = await startRedisServer(binary, mkdtempSync(join(tmpdir(), 'newsletter-demo-redis-')));
      cleanups.push(() => started.stop());
      redisUrl = started.url;
      redisNote = `${started.url} (started ${binary}; ${envRedis} did not answer)`;
      sharedRedis = false;
    }

    // ── SES (aws-ses-v2-local) and SNS signing ─────────────────────────────────
    const ses = await startLocalSes();
    cleanups.push(() => ses.stop());
    const identity = await createSnsSigningIdentity();
    const certsFile = join(dataDir, 'sns-certs.json');
    writeFileSync(certsFile, JSON.stringify({ [identity.certUrl]: identity.certPem }));

    const port = opts.port ? Number(opts.port) : await freePort();
    const prefix = `demo-${randomBytes(4).toString('hex')}`;
    const from = 'Tidewater Weekly <newsletter@example.com>';
    const config = loadConfig({
      ...process.env,
      DATABASE_URL: `sqlite:${join(dataDir, 'newsletter.db')}`,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      SES_ENDPOINT: ses.endpoint,
      SES_REGION: 'us-east-1',
      SEND_RATE: opts.rate,
      FROM_ADDRESS: from,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      UNSUBSCRIBE_SECRET: randomBytes(32).toString('hex'),
      SNS_TOPIC_ARNS: TOPIC_ARN,
      SNS_CERTS: certsFile,
      LIST_NAME: 'Tidewater Weekly',
      SITE_URL: process.env.SITE_URL ?? 'https://tidewater.example.org',
      POSTAL_ADDRESS: process.env.POSTAL_ADDRESS ?? '1 Harbor Road, Lisbon, Portugal',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      // aws-ses-v2-local publishes no Send events; a send left uncertain (connection lost
      // mid-request) is settled by resending after its request deadline plus this grace
      // instead of 15 s + 5 min. It answers in milliseconds, so a 2 s request deadline is
      // ample, and the grace stays above twice it as src/config.ts requires (it refused 5 s
      // against the default 15 s deadline: a resend while the first request could still land).
      SES_REQUEST_TIMEOUT_S: process.env.SES_REQUEST_TIMEOUT_S ?? '2',
      UNCERTAIN_GRACE_S: process.env.UNCERTAIN_GRACE_S ?? '5',
      PORT: String(port),
    });
    // The generated UNSUBSCRIBE_SECRET passes; a weak SIGNUP_SECRET from the environment does not.
    requireSigningSecrets(config, 'demo');
    // No AWS credentials needed: without any in the environment the SES transport signs with
    // dummy ones for a local endpoint (aws-ses-v2-local accepts any).
    if (sharedRedis) {
      cleanups.push(async () => {
        const { Redis } = await import('ioredis');
        const r = new Redis(redisUrl, { maxRetriesPerRequest: null });
        let cursor = '0';
        do {
          const [next, keys] = await r.scan(cursor, 'MATCH', redisKeys(prefix).everything(), 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await r.unlink(...keys);
        } while (cursor !== '0');
        r.disconnect();
      });
    }

    const logger = createLogger(config.LOG_LEVEL, 'demo');
    const ctx = await openAppContext(config, { logger });
    cleanups.push(() => ctx.close());
    const app = await buildServer(ctx.serverDeps());
    await app.listen({ port, host: '127.0.0.1' });
    cleanups.push(() => app.close());
    const base = `http://127.0.0.1:${port}`;

    out('newsletter demo');
    out(`  runtime    Node ${process.version}`);
    out(`  data dir   ${dataDir}`);
    out(`  redis      ${redisNote}`);
    out(`  SES        aws-ses-v2-local at ${ses.endpoint}; sent mail viewer: ${ses.viewerUrl}`);
    out(`  server     ${base}  (API docs ${base}/admin/api-docs, spec ${base}/api/openapi.json with a token)`);

    const admin = await ctx.tokens.create('admin', 'demo admin');
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}/api${path}`, {
        method,
        headers: { authorization: `Bearer ${admin.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const json = (await res.json()) as Record<string, unknown>;
      if (!res.ok) throw new Error(`API ${method} ${path} → ${res.status}: ${JSON.stringify(json)}`);
      return json;
    };

    // ── list, issue, campaign ─────────────────────────────────────────────────
    const csvPath = join(EXAMPLES, 'demo-subscribers.csv');
    const expected = expectedOutcomes(readFileSync(csvPath, 'utf8'));
    const report = await ctx.subscribers.importCsv(createReadStream(csvPath), 'demo');
    out(`imported ${report.imported} subscribers into list "demo" from examples/demo-subscribers.csv`);

    const issuePath = sampleIssue();
    const created = (await api('POST', '/campaigns', { markdown: readFileSync(issuePath, 'utf8'), list: 'demo' })) as {
      campaign: { id: number; subject: string };
    };
    const id = created.campaign.id;
    out(`compiled ${issuePath.slice(EXAMPLES.length - 'examples'.length)} → campaign #${id} "${created.campaign.subject}"`);

    // In this process: the worker shares the server's composition root (one store, one set of queues).
    const worker = await startWorkerRuntime({ config, logger, root: ctx.root });
    cleanups.push(() => worker.close());
    await api('POST', `/campaigns/${id}/send`, {});
    out(`sending at ${config.SEND_RATE}/s through an in-process worker…`);

    const feeder = new NotificationFeeder({ store: ctx.store, webhookUrl: `${base}/webhooks/ses`, identity, topicArn: TOPIC_ARN, from });
    let stats = await api('GET', `/campaigns/${id}/stats`);
    let lastLine = '';
    const deadline = Date.now() + 100_000;
    while (stats.status !== 'sent' && stats.status !== 'cancelled' && Date.now() < deadline) {
      await sleep(500);
      await feeder.pump(id);
      stats = await api('GET', `/campaigns/${id}/stats`);
      const line = `  ${stats.status}: sent ${stats.sent}/${stats.total}, delivered ${stats.delivered}, bounced ${stats.bounced}`;
      if (line !== lastLine && (Date.now() % 2000 < 600 || stats.status !== 'sending')) {
        out(line);
        lastLine = line;
      }
      if (stats.status === 'paused') out(`  paused: ${String(stats.paused_reason)}`);
    }
    // Late arrivals: the last deliveries, then the complaints (real ones come hours later).
    await feeder.pump(id);
    await feeder.releaseHeld();
    const settled = () =>
      Number(stats.delivered) + Number(stats.bounced) + Number(stats.complained) >= Number(stats.sent) &&
      Number(stats.complained) >= expected.complained;
    while (!settled() && Date.now() < deadline) {
      await sleep(200);
      stats = await api('GET', `/campaigns/${id}/stats`);
    }

    out('');
    out(`campaign #${id} final stats (GET /api/campaigns/${id}/stats):`);
    out(formatStatsTable(stats));
    const ok =
      stats.status === 'sent' &&
      stats.delivered === expected.delivered &&
      stats.bounced === expected.bounced &&
      stats.complained === expected.complained;
    out(
      `expected from the simulator addresses: delivered ${expected.delivered}, bounced ${expected.bounced}, complained ${expected.complained} → ${ok ? 'match' : 'MISMATCH'}`,
    );
    out(`SNS notifications verified and applied: ${feeder.posted}; finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    out('');
    out(`dashboard: ${base}/admin   admin token: ${admin.token}`);
    out(`sent mail: ${ses.viewerUrl}`);

    if (opts.serve) {
      out('serving until Ctrl-C (--serve)');
      await new Promise<void>((resolveWait) => {
        process.once('SIGINT', () => resolveWait());
        process.once('SIGTERM', () => resolveWait());
      });
    } else {
      out('(run `npm run demo -- --serve` to keep the server up and open the dashboard)');
    }
    return ok ? 0 : 1;
  } finally {
    await cleanup();
    if (!opts.dataDir && !opts.keep) rmSync(dataDir, { recursive: true, force: true });
  }
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the whole pipeline locally: import, compile, send rate-limited, simulated bounces/complaints, stats')
    .option('--serve', 'keep the server (dashboard, API) up afterwards')
    .option('--data-dir <dir>', 'where the SQLite database goes (default: a temp dir, removed afterwards)')
    .option('--port <port>', 'HTTP port (default: a free one)')
    .option('--rate <n>', 'messages per second', '50')
    .option('--keep', 'keep the temp data dir')
    .action(async (opts: DemoOptions) => {
      process.exitCode = await runDemo(opts);
      // Everything is closed; if a library still holds a handle, do not hang the terminal.
      setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
    });
}
