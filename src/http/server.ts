/**
 * The whole HTTP server: buildApp (health, webhooks, unsubscribe pages) + metrics +
 * OpenAPI + /api + /admin, and a graceful SIGTERM/SIGINT drain: stop accepting, let
 * in-flight requests finish, close resources, exit 0.
 */
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApp, type AppDeps } from './app.js';
import { adminPlugin, type TokenListItem } from './admin/admin-plugin.js';
import { DashboardQueries } from './admin/dashboard-queries.js';
import { SessionStore } from './admin/sessions.js';
import { PreviewDocuments } from './admin/preview-documents.js';
import { apiPlugin } from './api/api-plugin.js';
import { TestSendLimit } from './api/test-send-limit.js';
import { registerOpenApi } from './api/openapi.js';
import type { CampaignsPort, SubscribersPort } from './api/ports.js';
import type { TokenVerifier } from './auth.js';
import { installHttpMetrics } from './metrics.js';
import type { Metrics } from '../metrics/registry.js';
import { FleetCounters } from '../metrics/fleet-counters.js';
import { pingStore } from '../store/db.js';

export interface ServerDeps extends AppDeps {
  redis: Redis;
  campaigns: CampaignsPort;
  subscribers: SubscribersPort;
  verifyToken: TokenVerifier;
  /** BullMQ queues for bull-board and the queue-depth gauge. */
  queues: Queue[];
  metrics?: Metrics;
  /** Overrides ISSUES_DIR (where the API may read issue files); unset in both = Markdown bodies only. */
  issuesDir?: string;
  /** Whether an API token still exists (revoking a token ends its dashboard sessions). */
  tokenExists?: (id: number) => Promise<boolean>;
  /** The API tokens, for the dashboard's token list (no secrets: names, roles, dates). */
  listTokens?: () => Promise<TokenListItem[]>;
}

/** Servers that got SIGTERM: their responses close the connection so keep-alive cannot hold the drain. */
const draining = new WeakSet<FastifyInstance>();

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = await buildApp(deps);
  app.addHook('onSend', async (_request, reply) => {
    if (draining.has(app)) reply.header('connection', 'close');
  });
  // /metrics: behind METRICS_TOKEN when set; on its own port (cli/serve.ts) when METRICS_PORT is set.
  const metrics = installHttpMetrics(app, { metrics: deps.metrics, token: deps.config.METRICS_TOKEN, route: deps.config.METRICS_PORT === undefined });
  // Sends happen in the workers: /metrics reports their counts, shared through Redis.
  const fleet = new FleetCounters(deps.redis, deps.config.QUEUE_PREFIX);
  const detachFleet = metrics.attachFleet(fleet);
  app.addHook('onClose', async () => {
    detachFleet();
    await fleet.close();
  });
  metrics.setQueueDepthSource(async () => {
    const out: Record<string, Record<string, number>> = {};
    for (const q of deps.queues) {
      out[q.name] = await q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
    }
    return out;
  });
  await registerOpenApi(app, { publicUrl: deps.config.PUBLIC_URL });
  const testSendLimit = new TestSendLimit(deps.redis, deps.config.QUEUE_PREFIX, deps.config.TEST_SENDS_PER_MIN);
  await app.register(apiPlugin, {
    prefix: '/api',
    campaigns: deps.campaigns,
    subscribers: deps.subscribers,
    verifyToken: deps.verifyToken,
    issuesDir: deps.issuesDir ?? deps.config.ISSUES_DIR,
    testSendLimit,
  });
  await app.register(adminPlugin, {
    campaigns: deps.campaigns,
    subscribers: deps.subscribers,
    verifyToken: deps.verifyToken,
    sessions: new SessionStore(deps.redis, deps.config.QUEUE_PREFIX),
    queries: new DashboardQueries(deps.store),
    queues: deps.queues,
    tokenExists: deps.tokenExists,
    listTokens: deps.listTokens,
    publicUrl: deps.config.PUBLIC_URL,
    previews: new PreviewDocuments(deps.redis, deps.config.QUEUE_PREFIX),
    testSendLimit,
  });
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/admin', 302));
  // /healthz stays liveness (the process answers: a supervisor must not restart the server
  // because the database restarts). /readyz is readiness: can it do its work right now?
  app.get('/readyz', { schema: { hide: true } }, async (request, reply) => {
    const [database, redis] = await Promise.all([
      check(() => pingStore(deps.store)),
      check(() => withTimeout(deps.redis.ping(), 2000)),
    ]);
    const ok = database.ok && redis.ok;
    if (!ok) request.log.warn({ database: database.detail, redis: redis.detail }, 'not ready');
    // The details (addresses, driver messages) go to the log, not to whoever asks.
    return reply.code(ok ? 200 : 503).send({ ok, database: database.ok ? 'up' : 'down', redis: redis.ok ? 'up' : 'down' });
  });
  return app;
}

async function check(probe: () => Promise<unknown>): Promise<{ ok: boolean; detail?: string }> {
  try {
    await probe();
    return { ok: true };
  } catch (err) {
    return { ok: false, detail: err instanceof Error ? err.message : String(err) };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Close the server on SIGTERM/SIGINT: Fastify stops accepting connections, closes idle
 * keep-alive sockets and waits for in-flight requests; then `cleanup` closes queues,
 * Redis and the store, and the process exits 0 (1 if draining failed or took too long).
 */
export function drainOnSignals(
  app: FastifyInstance,
  cleanup: () => Promise<void>,
  options: { timeoutMs?: number; exit?: (code: number) => void; signals?: NodeJS.Signals[] } = {},
): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    draining.add(app);
    app.log.info({ signal }, 'draining: no new connections, waiting for in-flight requests');
    const timer = setTimeout(() => {
      app.log.error('drain timed out; exiting');
      exit(1);
    }, options.timeoutMs ?? 25_000);
    timer.unref();
    app
      .close()
      .then(cleanup)
      .then(
        () => {
          clearTimeout(timer);
          app.log.info('drained; bye');
          exit(0);
        },
        (err: unknown) => {
          app.log.error({ err }, 'error while draining');
          exit(1);
        },
      );
  };
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  for (const s of signals) process.on(s, onSignal);
  return () => {
    for (const s of signals) process.off(s, onSignal);
  };
}
