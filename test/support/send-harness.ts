/**
 * An end-to-end send harness: the strict SES simulator (in this process), a fresh
 * database with an audience, a unique BullMQ prefix on real Redis, and workers either
 * in this process or as child processes (for kill -9 and several workers). Everything
 * is counted from the simulator's record, never from our own ledger.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startSesSimulator, type SesSimulator, type SesSimulatorOptions } from '../../src/simulator/ses-simulator.js';
import { loadConfig, type Config } from '../../src/config.js';
import { openSendContext, type SendContext } from '../../src/campaigns/send-context.js';
import { createEventApplier, type EventApplier } from '../../src/events/event-applier.js';
import { parseSesNotification } from '../../src/events/ses-notification.js';
import type { NotificationInput } from '../../src/store/event-writer.js';
import { startWorkerRuntime, type WorkerRuntime } from '../../workers/runtime.js';
import { createDefaultDeps } from '../../workers/default-deps.js';
import type { CompiledIssue } from '../../src/render/types.js';
import { compileIssue } from '../../src/render/compile-issue.js';
import { parseIssueFile } from '../../src/issue/parse-issue.js';
import { EXAMPLE_ISSUE, EXAMPLE_SITE_URL } from './example-issue.js';
import type { CampaignStatus } from '../../src/store/schema.js';
import type { DialectName } from '../../src/store/db.js';
import { createTestStore, type TestStore } from './store.js';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from './redis.js';
import { ROOT, seedAudience, sleep, spawnTs, waitFor } from './pipeline.js';
import { TEST_UNSUBSCRIBE_SECRET } from './secrets.js';

/** The project's example issue, compiled once by the real compiler. */
let compiledOnce: Promise<CompiledIssue> | undefined;
export function exampleCompiled(): Promise<CompiledIssue> {
  compiledOnce ??= compileIssue(parseIssueFile(EXAMPLE_ISSUE, { siteUrl: EXAMPLE_SITE_URL }), { siteUrl: EXAMPLE_SITE_URL });
  return compiledOnce;
}

export interface HarnessOptions {
  dialect?: DialectName;
  subscribers: number;
  sendRate: number;
  sim?: SesSimulatorOptions;
  env?: Record<string, string>;
  redisUrl?: string;
  /** Receive the simulator's SES Send events and confirm ledger rows (as the events webhook does). */
  sendEvents?: boolean;
  /** With sendEvents: apply every SES event (bounces, complaints, rejects…), not only Send, through the production event path. */
  allEvents?: boolean;
}

export interface Harness {
  sim: SesSimulator;
  store: TestStore;
  listId: number;
  prefix: string;
  env: Record<string, string>;
  config: Config;
  ctx: SendContext;
  startCampaign(opts?: { scheduledAt?: number }): Promise<number>;
  startWorker(overrides?: Record<string, string>): Promise<WorkerRuntime>;
  /** A worker child process: `workers/index.ts` under tsx, or `command` (node arguments, e.g. a compiled entry). */
  spawnWorker(overrides?: Record<string, string>, command?: string[], options?: { cwd?: string }): Promise<ChildProcess>;
  waitForStatus(campaignId: number, status: CampaignStatus, timeoutMs?: number): Promise<void>;
  /** Messages accepted per subscriber email. */
  counts(): Map<string, number>;
  expectedEmails(): string[];
  close(): Promise<void>;
}

/**
 * Minimal SNS endpoint: applies the simulator's SES `Send` events (event publishing, with our
 * tags) through the production event path, as the webhook does after verifying the signature
 * (not checked here: the simulator is in this process).
 */
async function startSendEventReceiver(apply: (input: NotificationInput) => Promise<unknown>, allEvents = false): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      void (async () => {
        try {
          const envelope = JSON.parse(body) as { Type: string; MessageId: string; Message: string };
          if (envelope.Type === 'Notification') {
            const parsed = parseSesNotification(envelope.Message);
            const sends = allEvents ? parsed : parsed.filter((e) => e.type === 'send');
            if (sends.length > 0) await apply({ snsMessageId: envelope.MessageId, message: envelope.Message, events: sends });
          }
          res.writeHead(200).end();
        } catch {
          res.writeHead(500).end();
        }
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/sns` };
}

export async function createHarness(opts: HarnessOptions): Promise<Harness> {
  const store = await createTestStore(opts.dialect ?? 'sqlite');
  const listId = await seedAudience(store.db, opts.subscribers);
  const prefix = uniquePrefix('send');
  const redisUrl = opts.redisUrl ?? TEST_REDIS_URL;
  // Set once the send context is open (it needs the simulator's URL); no event arrives before a send.
  const late: { events?: EventApplier } = {};
  const receiver = opts.sendEvents ? await startSendEventReceiver((input) => late.events!.apply(input), opts.allEvents) : undefined;
  const sim = await startSesSimulator({
    maxSendRate: 100_000,
    max24HourSend: 10_000_000,
    keepRaw: false,
    sendEvents: opts.sendEvents ?? false,
    ...(receiver ? { notifyUrl: receiver.url } : {}),
    ...opts.sim,
  });
  const env: Record<string, string> = {
    DATABASE_URL: store.url,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    SES_ENDPOINT: sim.url,
    SEND_RATE: String(opts.sendRate),
    FROM_ADDRESS: 'LWKD <news@example.com>',
    UNSUBSCRIBE_SECRET: TEST_UNSUBSCRIBE_SECRET,
    PUBLIC_URL: 'https://news.example.com',
    UNCERTAIN_GRACE_S: '10',
    // The claim's lease and SES request deadline (generous: these tests share loaded cores and run
    // without Send events, where a send whose answer came too late is resent by design, a
    // duplicate the tests would count); the grace must be at least twice it. 3 s / 6 s was too
    // short beside another full test run on 2 cores.
    SES_REQUEST_TIMEOUT_S: '5',
    JOB_LOCK_S: '2',
    STALE_QUEUED_S: '3',
    QUOTA_RECHECK_S: '1',
    WORKER_CONCURRENCY: '20',
    LOG_LEVEL: 'warn',
    ...opts.env,
  };
  const config = loadConfig(env);
  const ctx = await openSendContext(config, { store });
  late.events = createEventApplier(store, config, ctx.orchestrator);
  const runtimes: WorkerRuntime[] = [];
  const children: ChildProcess[] = [];

  const h: Harness = {
    sim,
    store,
    listId,
    prefix,
    env,
    config,
    ctx,
    async startCampaign(o = {}) {
      const c = await ctx.orchestrator.create({
        listId,
        subject: 'Week 42',
        issueTitle: 'Week 42',
        issueSlug: 'week-42',
        issueDate: '2026-11-26',
        sourcePath: null,
        sourceMarkdown: '# Week 42',
        compiledJson: JSON.stringify(await exampleCompiled()),
        scheduledAt: o.scheduledAt ?? null,
        status: o.scheduledAt ? 'scheduled' : 'draft',
      });
      if (!o.scheduledAt) await ctx.orchestrator.start(c.id);
      return c.id;
    },
    async startWorker(overrides = {}) {
      const rt = await startWorkerRuntime({ config: loadConfig({ ...env, ...overrides }), createDeps: createDefaultDeps });
      runtimes.push(rt);
      return rt;
    },
    async spawnWorker(overrides = {}, command, options = {}) {
      const child = command
        ? spawn(process.execPath, command, { cwd: options.cwd ?? ROOT, env: { ...process.env, ...env, ...overrides }, stdio: ['pipe', 'pipe', 'pipe'] })
        : spawnTs(join(ROOT, 'workers/index.ts'), [], { ...env, ...overrides });
      children.push(child);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('worker ready')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`worker exited ${code} before ready: ${stderr}`)));
      });
      return child;
    },
    async waitForStatus(campaignId, status, timeoutMs = 60_000) {
      await waitFor(`campaign ${campaignId} ${status}`, async () => (await ctx.campaigns.status(campaignId))?.status === status, timeoutMs, 100);
    },
    counts() {
      const m = new Map<string, number>();
      for (const msg of sim.messages) for (const d of msg.destinations) m.set(d.toLowerCase(), (m.get(d.toLowerCase()) ?? 0) + 1);
      return m;
    },
    expectedEmails() {
      return Array.from({ length: opts.subscribers }, (_, i) => `reader${i + 1}@example.com`);
    },
    async close() {
      await Promise.all(runtimes.map((r) => r.close().catch(() => undefined)));
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await sleep(50);
      await ctx.close();
      await sim.close();
      receiver?.server.close();
      await store.drop();
      await deletePrefix(prefix, redisUrl).catch(() => undefined);
    },
  };
  return h;
}

/** Average accepted messages per second between the first and the last acceptance. */
export function averageRate(sim: SesSimulator): number {
  const times = sim.messages.map((m) => m.at);
  if (times.length < 2) return 0;
  return ((times.length - 1) * 1000) / (times[times.length - 1]! - times[0]!);
}
