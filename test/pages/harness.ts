/**
 * The subscriber pages on real services: a fresh database, real Redis under a unique
 * prefix, the strict SES simulator spoken to by the real AWS SDK, the confirmation queue
 * with its worker (same global rate limiter as campaign sends), and the Fastify app.
 * The clock used for expiry is controllable.
 */
import type { FastifyInstance } from 'fastify';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { simpleParser } from 'mailparser';
import { loadConfig, type Config } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { campaignPauser } from '../support/campaign-pauser.js';
import { createRedisConnection } from '../../src/queue/connection.js';
import { RateLimiter } from '../../src/queue/rate-limiter.js';
import { SesTransport } from '../../src/ses/ses-transport.js';
import { startSesSimulator, type SesSimulator } from '../../src/simulator/ses-simulator.js';
import { createConfirmationQueue, enqueueConfirmation, type ConfirmationJobData } from '../../src/signup/confirmation-queue.js';
import { startConfirmationRuntime } from '../../src/signup/confirmation-runtime.js';
import type { DialectName } from '../../src/store/db.js';
import { sesMailTransport } from '../../workers/default-deps.js';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { createTestStore, type TestStore } from '../support/store.js';
import { TEST_SIGNUP_SECRET, TEST_UNSUBSCRIBE_SECRET } from '../support/secrets.js';

export const PUBLIC_URL = 'https://news.example.com';
export const FROM = 'Tidewater Weekly <news@example.com>';

export interface PagesHarness {
  app: FastifyInstance;
  store: TestStore;
  config: Config;
  sim: SesSimulator;
  redis: Redis;
  queue: Queue<ConfirmationJobData>;
  prefix: string;
  clock: { now: number };
  /** The confirmation mails accepted by SES for this address, parsed. */
  mailsTo(email: string): Promise<Array<{ subject: string; text: string; html: string; from: string; link: string }>>;
  waitForMails(email: string, n: number, timeoutMs?: number): Promise<Awaited<ReturnType<PagesHarness['mailsTo']>>>;
  /** Enqueued confirmation jobs (waiting, active, completed or delayed). */
  jobCount(): Promise<number>;
  close(): Promise<void>;
}

export interface PagesHarnessOptions {
  env?: Record<string, string>;
  /** Run the confirmation worker (default true). */
  worker?: boolean;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function createPagesHarness(dialect: DialectName, options: PagesHarnessOptions = {}): Promise<PagesHarness> {
  const store = await createTestStore(dialect);
  const prefix = uniquePrefix('pages');
  const sim = await startSesSimulator({ maxSendRate: 50 });
  const config = loadConfig({
    DATABASE_URL: store.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    SES_ENDPOINT: sim.url,
    FROM_ADDRESS: FROM,
    PUBLIC_URL,
    UNSUBSCRIBE_SECRET: TEST_UNSUBSCRIBE_SECRET,
    SIGNUP_SECRET: TEST_SIGNUP_SECRET,
    LIST_NAME: 'Tidewater Weekly',
    SIGNUP_LISTS: 'default,Release notes',
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const clock = { now: Date.now() };
  const now = () => clock.now;
  const redis = createRedisConnection(TEST_REDIS_URL);
  const queueConnection = createRedisConnection(TEST_REDIS_URL);
  const queue = createConfirmationQueue(queueConnection, prefix);
  const ses = SesTransport.fromConfig(config);
  const limiterRedis = createRedisConnection(TEST_REDIS_URL);
  const limiter = new RateLimiter({ redis: limiterRedis, prefix, ratePerSecond: 40 });
  const worker =
    options.worker === false
      ? null
      : startConfirmationRuntime({ ...config, FROM_ADDRESS: FROM }, { store, transport: sesMailTransport(ses), limiter, now, sweepIntervalMs: 3600_000 });
  const app = await buildApp({
    config,
    store,
    campaignPauser: campaignPauser(store),
    logger: pino({ level: 'silent' }),
    signup: { redis, now, enqueueConfirmation: (id) => enqueueConfirmation(queue, id) },
  });

  const h: PagesHarness = {
    app,
    store,
    config,
    sim,
    redis,
    queue,
    prefix,
    clock,
    async mailsTo(email) {
      const out = [];
      for (const m of sim.messages.filter((m) => m.destinations.includes(email))) {
        const parsed = await simpleParser(m.raw);
        const text = parsed.text ?? '';
        const link = /https?:\/\/\S+\/confirm\/\S+/.exec(text)?.[0] ?? '';
        out.push({ subject: parsed.subject ?? '', text, html: typeof parsed.html === 'string' ? parsed.html : '', from: `${parsed.from?.value[0]?.name ?? ''} <${parsed.from?.value[0]?.address ?? ''}>`, link });
      }
      return out;
    },
    async waitForMails(email, n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (sim.messages.filter((m) => m.destinations.includes(email)).length < n) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} mail(s) to ${email}`);
        await sleep(25);
      }
      return h.mailsTo(email);
    },
    async jobCount() {
      const c = await queue.getJobCounts('waiting', 'active', 'completed', 'delayed', 'failed', 'prioritized');
      return Object.values(c).reduce((a, b) => a + b, 0);
    },
    async close() {
      await app.close();
      await worker?.close();
      await queue.close();
      queueConnection.disconnect();
      redis.disconnect();
      limiterRedis.disconnect();
      ses.destroy();
      await sim.close();
      await store.drop();
      await deletePrefix(prefix);
    },
  };
  return h;
}

export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** POST /subscribe as a form from an IP. */
export function signUp(h: PagesHarness, fields: Record<string, string>, ip = '203.0.113.7') {
  return h.app.inject({ method: 'POST', url: '/subscribe', headers: FORM, remoteAddress: ip, payload: new URLSearchParams(fields).toString() });
}
