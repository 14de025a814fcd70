/**
 * The composition root: the one place that builds the objects every entry point shares
 * (serve, worker, the CLI commands, the demo) from the config — store, Redis connections,
 * send queues, repositories, audience source, campaign orchestrator, SES transport and its
 * MailTransport adapter, the send rate and the global rate limiter, the logger.
 *
 * Each object is built on first use and at most once, so a command that needs only the
 * store never connects to Redis. `close()` releases what was opened, in reverse order of
 * opening. Process-specific parts (the BullMQ workers, the HTTP server, the API services)
 * are built by their entry points from what this root hands out.
 */
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import { ConfigError } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import { CampaignOrchestrator } from './campaigns/campaign-orchestrator.js';
import type { AudienceSource, MailTransport, RateLimiter as RateLimiterPort } from './campaigns/ports.js';
import { createRedisConnection } from './queue/connection.js';
import { RateLimiter } from './queue/rate-limiter.js';
import { createSendQueues, type SendQueues } from './queue/send-queues.js';
import { resolveSendRate, type ResolvedSendRate } from './ses/send-rate.js';
import { sesMailTransport } from './ses/ses-mail-transport.js';
import { SesTransport } from './ses/ses-transport.js';
import { ApiTokensRepository } from './store/api-tokens-repository.js';
import { CampaignsRepository } from './store/campaigns-repository.js';
import { createConnectionErrorReporter, openStore, type Store } from './store/db.js';
import { openRepositories, type StoreRepositories } from './store/repositories.js';
import { DeliveryLedger } from './store/delivery-ledger.js';
import { canaryDefaults } from './campaigns/canary-wave.js';

export interface CompositionRootOptions {
  /** Default: a logger at LOG_LEVEL (JSON on stderr). */
  logger?: Logger;
  /** A store the caller opened (tests, benches): used as is and left to the caller to close. */
  store?: Store;
  /** Apply pending migrations when opening the store (default true; `migrate` applies them itself). */
  migrate?: boolean;
  /** How long the first PING may take before Redis counts as absent (default 10 s: a process starting on busy cores loads modules for seconds, and the timer would win over an answer that already arrived). */
  redisTimeoutMs?: number;
}

export interface CompositionRoot {
  readonly config: Config;
  readonly logger: Logger;
  store(): Promise<Store>;
  /** The process's Redis connection for its own commands, checked to answer (ConfigError naming REDIS_URL if not). */
  redis(): Promise<Redis>;
  /** The fan-out and send queues (on a connection of their own). */
  queues(): Promise<SendQueues>;
  campaigns(): Promise<CampaignsRepository>;
  ledger(): Promise<DeliveryLedger>;
  audience(): Promise<AudienceSource>;
  apiTokens(): Promise<ApiTokensRepository>;
  /** Every repository over the store (src/store/repositories.ts). */
  repositories(): Promise<StoreRepositories>;
  /** The one owner of campaign state transitions. */
  orchestrator(): Promise<CampaignOrchestrator>;
  ses(): SesTransport;
  /** The SES transport as the send pipeline's port. */
  mailTransport(): MailTransport;
  /** SEND_RATE, else the account's MaxSendRate, else 14/s; resolved once and logged with its source. */
  sendRate(): Promise<ResolvedSendRate>;
  /** The fleet-wide send-rate limiter in Redis, at sendRate(). */
  rateLimiter(): Promise<RateLimiterPort>;
  /** Release everything opened, last opened first. */
  close(): Promise<void>;
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
    // The URL may carry the password (docker-compose's REDIS_URL does): never print it.
    throw new ConfigError(`Redis at ${url.replace(/\/\/[^@/]*@/, '//***@')} does not answer (${(err as Error).message}); start it (docker compose up -d redis) or set REDIS_URL`);
  } finally {
    clearTimeout(timer);
  }
}

export function openCompositionRoot(config: Config, options: CompositionRootOptions = {}): CompositionRoot {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const closers: Array<() => Promise<void> | void> = [];
  const opening = new Set<Promise<unknown>>();
  let closed = false;

  /** Build on first call, once; later calls share the same promise. */
  const lazy = <T>(open: () => Promise<T>): (() => Promise<T>) => {
    let value: Promise<T> | undefined;
    return () => {
      if (closed) return Promise.reject(new Error('the composition root is closed'));
      if (!value) {
        value = open();
        const pending = value;
        opening.add(pending);
        void pending.catch(() => undefined).finally(() => opening.delete(pending));
      }
      return value;
    };
  };
  const once = <T>(build: () => T): (() => T) => {
    let value: { v: T } | undefined;
    return () => {
      if (closed) throw new Error('the composition root is closed');
      return (value ??= { v: build() }).v;
    };
  };

  const store = lazy(async () => {
    if (options.store) return options.store;
    const s = await openStore(config.DATABASE_URL, {
      migrate: options.migrate,
      onConnectionError: createConnectionErrorReporter((line) => logger.warn(line)),
    });
    closers.push(() => s.destroy());
    return s;
  });

  const redis = lazy(async () => {
    const r = createRedisConnection(config.REDIS_URL, { lazyConnect: false });
    try {
      await checkRedis(r, config.REDIS_URL, options.redisTimeoutMs ?? 10_000);
    } catch (err) {
      r.disconnect();
      throw err;
    }
    closers.push(() => r.disconnect());
    return r;
  });

  const queues = lazy(async () => {
    const connection = createRedisConnection(config.REDIS_URL);
    closers.push(() => connection.disconnect());
    const q = createSendQueues(connection, config.QUEUE_PREFIX);
    closers.push(() => q.close());
    return q;
  });

  // Every repository over the one store (src/store/repositories.ts): the only way in.
  const repositories = lazy(async () => openRepositories(await store()));
  const campaigns = lazy(async () => (await repositories()).campaigns);
  const ledger = lazy(async () => (await repositories()).ledger);
  const audience = lazy(async (): Promise<AudienceSource> => (await repositories()).audience);
  const apiTokens = lazy(async () => (await repositories()).apiTokens);
  const orchestrator = lazy(
    async () =>
      new CampaignOrchestrator({
        campaigns: await campaigns(),
        ledger: await ledger(),
        audience: await audience(),
        queues: await queues(),
        // Each status change and its activity entry commit together.
        units: await repositories(),
        health: (await repositories()).campaignHealth,
        logger,
        // A send older than this with no answer is "uncertain" (the reconciler settles it): past
        // its claim's lease (SES_REQUEST_TIMEOUT_S) no request of it is in flight any more; the
        // grace on top is capped so that the stats' in-flight count does not lag a long grace.
        uncertainAfterMs: (config.SES_REQUEST_TIMEOUT_S + Math.min(config.UNCERTAIN_GRACE_S, 30)) * 1000,
        // Canary defaults and the thresholds a wave is judged by (the reputation breaker's).
        canary: canaryDefaults(config),
      }),
  );

  const ses = once(() => {
    const s = SesTransport.fromConfig(config);
    closers.push(() => s.destroy());
    return s;
  });
  const mailTransport = once(() => sesMailTransport(ses()));

  const sendRate = lazy(async () => {
    const resolved = await resolveSendRate(config, ses());
    // GetSendQuota is always called once at start, SEND_RATE or not: it also warms the SDK
    // (credentials, middleware) and opens its keep-alive connection, so the first send is not slow.
    if (resolved.source === 'config') await mailTransport().getSendQuota().catch(() => null);
    logger.info({ rate: resolved.rate, source: resolved.source, ...(resolved.reason ? { reason: resolved.reason } : {}) }, 'send rate');
    return resolved;
  });

  const rateLimiter = lazy(async (): Promise<RateLimiterPort> => {
    const { rate } = await sendRate();
    // Its own connection: a permit's round trip must not queue behind other commands.
    const connection = createRedisConnection(config.REDIS_URL);
    closers.push(() => connection.disconnect());
    // Permits are spaced (1000 + 20) ms / rate: 98% of the rate at most, and 20 ms of bunching
    // between slot and SES's clock is absorbed. The send processor prepares each message
    // before its slot and the transport starts the request at the slot (permitLeadMs), so
    // what the margin absorbs is a permit's lateness (up to 12 ms; a later one is pushed back or
    // given back, as a late send would bunch with the next ones) and the request's own jitter.
    // Was 32 ms while the claim and the MIME build ran after the permit. Tuned with
    // bench/send.ts --rates 14,100,500 and the 200/s acceptance test (test/send/send-rate.test.ts).
    // SES's first Throttling answer after 10 s without one cuts the fleet's rate by 10%, not 30%:
    // a lone answer (a slot that met a jittery clock on SES's side) then costs a few messages
    // instead of several seconds at 70% (issue #15: one at 100/s took a 10 s run from 97% to
    // 89%); a real overload is reported again and cut by 30% from the second report on.
    const limiter = new RateLimiter({ redis: connection, prefix: config.QUEUE_PREFIX, ratePerSecond: rate, marginMs: 20, staleMs: 12, firstDecreaseFactor: 0.9 });
    return {
      acquire: () => limiter.acquire(),
      reserve: (leadMs) => limiter.reserve(leadMs),
      reportThrottled: () => limiter.reportThrottled(),
      tally: () => ({ ...limiter.counters }),
    };
  });

  return {
    config,
    logger,
    store,
    redis,
    queues,
    campaigns,
    ledger,
    audience,
    apiTokens,
    repositories,
    orchestrator,
    ses,
    mailTransport,
    sendRate,
    rateLimiter,
    async close() {
      if (closed) return;
      closed = true;
      // Something still opening registers its closer when done; wait for it.
      await Promise.allSettled([...opening]);
      let first: unknown;
      for (const release of closers.reverse()) {
        try {
          await release();
        } catch (err) {
          first ??= err;
        }
      }
      if (first !== undefined) throw first;
    },
  };
}
