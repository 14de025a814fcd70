/**
 * What a long-running surface (serve, demo) uses: the shared objects from the composition
 * root (config, logger, store, Redis, the send queues and orchestrator) and the ports the
 * API and dashboard build on them. `close()` releases all of it in reverse order.
 */
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { openCompositionRoot, type CompositionRoot } from './composition-root.js';
import { openSendContext, type SendContext } from './campaigns/send-context.js';
import { createCampaignsService, type CampaignsServiceDeps } from './http/api/campaigns-service.js';
import type { CampaignsPort, SubscribersPort } from './http/api/ports.js';
import { createSubscribersService } from './http/api/subscribers-service.js';
import { AuthError, type TokenVerifier } from './http/auth.js';
import type { ServerDeps } from './http/server.js';
import { metrics as processMetrics, type Metrics } from './metrics/registry.js';
import type { ApiTokensRepository } from './store/api-tokens-repository.js';
import type { Store } from './store/db.js';
import { createCompilerBridge } from './http/api/compiler-bridge.js';
import { openSignupPages } from './signup/signup-pages.js';
import { AudienceSizes } from './campaigns/audience-sizes.js';

export interface AppContext {
  /** What everything here is built from; a worker runtime in the same process (demo) shares it. */
  root: CompositionRoot;
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

/** A view over a composition root for the long-running surfaces; close() closes the root. */
export async function openAppContext(config: Config, options: OpenAppContextOptions = {}): Promise<AppContext> {
  const root = openCompositionRoot(config, { logger: options.logger, redisTimeoutMs: options.redisTimeoutMs });
  try {
    return await buildAppContext(root, options);
  } catch (err) {
    await root.close();
    throw err;
  }
}

async function buildAppContext(root: CompositionRoot, options: OpenAppContextOptions): Promise<AppContext> {
  const { config, logger } = root;
  // Redis first: without it nothing here works, and the ConfigError names REDIS_URL.
  const redis = await root.redis();
  const store = await root.store();
  const send = await openSendContext(config, { root });
  const tokens = await root.apiTokens();
  const verifyToken: TokenVerifier = async (token) => {
    const t = await tokens.check(token);
    if (t.status === 'expired') {
      throw new AuthError(401, `token #${t.token.id} "${t.token.name}" expired at ${new Date(t.token.expires_at!).toISOString()}; create a new one (newsletter tokens create)`);
    }
    return t.status === 'valid' ? { tokenId: t.token.id, name: t.token.name, role: t.token.role, email: t.token.email } : null;
  };
  const repos = await root.repositories();
  const audienceSizes = new AudienceSizes(repos.audience, {
    onError: (err, listId) => logger.warn({ err, listId }, 'audience recount failed; the confirmation shows the last count'),
  });
  const bridge = createCompilerBridge(config, redis, () => root.ses(), logger, { subscribers: repos.subscribers, audience: send.audience });
  const campaigns = createCampaignsService({
    campaigns: send.campaigns,
    lists: repos.lists,
    orchestrator: send.orchestrator,
    compile: options.campaignDeps?.compile ?? bridge.compile,
    renderPreview: options.campaignDeps?.renderPreview ?? bridge.renderPreview,
    sendTest: options.campaignDeps?.sendTest ?? bridge.sendTest,
    draftIssue: bridge.draftIssue,
    readerCopy: bridge.readerCopy,
    sendRate: async () => (await root.sendRate()).rate,
    audienceSize: (listId) => audienceSizes.size(listId),
  });
  const subscribers = createSubscribersService(store);
  const metrics = options.metrics ?? processMetrics;
  // Public sign-up pages (double opt-in): on whenever links can be signed.
  const signupPages = config.SIGNUP_SECRET || config.UNSUBSCRIBE_SECRET ? openSignupPages(config, redis) : null;

  return {
    root,
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
      // A dashboard session ends when its token is revoked or expires.
      tokenExists: (id: number) => tokens.isActive(id),
      listTokens: () => tokens.list(),
      ...extra,
    }),
    async close() {
      await signupPages?.close();
      await root.close();
    },
  };
}
