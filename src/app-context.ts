/**
 * Everything a long-running surface (serve, demo) opens once: config, logger, store,
 * Redis, the send queues and orchestrator, and the ports the API and dashboard use.
 * `close()` releases all of it in reverse order.
 */
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import { ConfigError } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import { openSendContext, type SendContext } from './campaigns/send-context.js';
import { createCampaignsService, type CampaignsServiceDeps } from './http/api/campaigns-service.js';
import type { CampaignsPort, SubscribersPort } from './http/api/ports.js';
import { createSubscribersService } from './http/api/subscribers-service.js';
import type { TokenVerifier } from './http/auth.js';
import type { ServerDeps } from './http/server.js';
import { metrics as processMetrics, type Metrics } from './metrics/registry.js';
import { createRedisConnection } from './queue/connection.js';
import { ApiTokensRepository } from './store/api-tokens-repository.js';
import { openStore, type Store } from './store/db.js';
import { createCompilerBridge } from './http/api/compiler-bridge.js';
import { openSignupPages } from './signup/signup-pages.js';

export interface AppContext {
  config: Config;
  logger: Logger;
  store: Store;
  redis: Redis;
  send: SendContext;
  tokens: ApiTokensRepository;
  verifyToken: TokenVerifier;
  campaigns: CampaignsPort;
  subscribers: SubscribersPort;
  metrics: Metrics;
  /** Dependencies for buildServer. */
  serverDeps(extra?: Partial<ServerDeps>): ServerDeps;
  close(): Promise<void>;
}

export interface OpenAppContextOptions {
  logger?: Logger;
  metrics?: Metrics;
  /** Override parts of the campaign glue (tests). */
  campaignDeps?: Partial<Pick<CampaignsServiceDeps, 'compile' | 'renderPreview' | 'sendTest'>>;
  /** How long to wait for Redis before giving up (ms, default 3000). */
  redisTimeoutMs?: number;
}

/** Resolve when Redis answers PING, or throw a ConfigError naming REDIS_URL. */
export async function checkRedis(redis: Redis, url: string, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
  } catch (err) {
    throw new ConfigError(`Redis at ${url} does not answer (${(err as Error).message}); start it (docker compose up -d redis) or set REDIS_URL`);
  } finally {
    clearTimeout(timer);
  }
}

export async function openAppContext(config: Config, options: OpenAppContextOptions = {}): Promise<AppContext> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const redis = createRedisConnection(config.REDIS_URL, { lazyConnect: false });
  try {
    await checkRedis(redis, config.REDIS_URL, options.redisTimeoutMs ?? 3000);
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  const store = await openStore(config.DATABASE_URL);
  const send = await openSendContext(config, { store });
  const tokens = new ApiTokensRepository(store.db);
  const verifyToken: TokenVerifier = async (token) => {
    const t = await tokens.verify(token);
    return t ? { tokenId: t.id, name: t.name, role: t.role } : null;
  };
  const bridge = createCompilerBridge(config, redis, logger);
  const campaigns = createCampaignsService({
    store,
    campaigns: send.campaigns,
    orchestrator: send.orchestrator,
    compile: options.campaignDeps?.compile ?? bridge.compile,
    renderPreview: options.campaignDeps?.renderPreview ?? bridge.renderPreview,
    sendTest: options.campaignDeps?.sendTest ?? bridge.sendTest,
  });
  const subscribers = createSubscribersService(store);
  const metrics = options.metrics ?? processMetrics;
  // Public sign-up pages (double opt-in): on whenever links can be signed.
  const signupPages = config.SIGNUP_SECRET || config.UNSUBSCRIBE_SECRET ? openSignupPages(config, redis) : null;

  return {
    config,
    logger,
    store,
    redis,
    send,
    tokens,
    verifyToken,
    campaigns,
    subscribers,
    metrics,
    serverDeps: (extra = {}) => ({
      config,
      store,
      logger,
      redis,
      campaigns,
      subscribers,
      verifyToken,
      campaignPauser: send.orchestrator,
      queues: [send.queues.fanout, send.queues.send, ...(signupPages ? [signupPages.queue] : [])],
      ...(signupPages ? { signup: signupPages.signup } : {}),
      metrics,
      tokenExists: async (id: number) =>
        (await store.db.selectFrom('api_tokens').select('id').where('id', '=', id).executeTakeFirst()) !== undefined,
      ...extra,
    }),
    async close() {
      await bridge.close();
      await send.close();
      await signupPages?.close();
      redis.disconnect();
      await store.destroy();
    },
  };
}
