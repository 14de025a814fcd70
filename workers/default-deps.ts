/**
 * The production wiring of a worker's IO: the SES transport, the global rate limiter in
 * Redis (at SEND_RATE, else the account's MaxSendRate, else 14/s) and the compiler's
 * message factory.
 */
import type { Logger } from 'pino';
import type { Config } from '../src/config.js';
import type { MailTransport } from '../src/campaigns/ports.js';
import { prepareMessages } from '../src/render/prepare-messages.js';
import { createRedisConnection } from '../src/queue/connection.js';
import { RateLimiter } from '../src/queue/rate-limiter.js';
import { SesTransport } from '../src/ses/ses-transport.js';
import { classifySesError } from '../src/ses/ses-error.js';
import type { RuntimeDeps } from './runtime.js';

export const DEFAULT_SEND_RATE = 14;

export function sesMailTransport(ses: SesTransport): MailTransport {
  return {
    sendRaw: (input) => ses.sendRaw({ raw: input.raw, from: input.from, to: input.to, tags: input.tags }),
    getSendQuota: () => ses.getSendQuota({ timeoutMs: 2000 }),
    classify: (err) => {
      const c = classifySesError(err);
      return c.httpStatus === undefined ? { kind: c.kind, maybeSent: c.maybeSent } : { kind: c.kind, maybeSent: c.maybeSent, httpStatus: c.httpStatus };
    },
  };
}

/** SEND_RATE if set, else the account's MaxSendRate, else 14 (aws-ses-v2-local never answers). */
export async function resolveSendRate(config: Config, transport: MailTransport, logger?: Logger): Promise<number> {
  // Always ask once: it also warms the SDK and its connection, so the first send is not slow.
  const quota = await transport.getSendQuota().catch(() => null);
  if (config.SEND_RATE) return config.SEND_RATE;
  const rate = quota && quota.maxSendRate > 0 ? quota.maxSendRate : DEFAULT_SEND_RATE;
  logger?.info({ rate, fromSes: quota !== null }, 'send rate');
  return rate;
}

export async function createDefaultDeps(config: Config, ctx: { redisUrl: string; prefix: string; logger?: Logger }): Promise<RuntimeDeps> {
  const ses = SesTransport.fromConfig(config);
  const transport = sesMailTransport(ses);
  const rate = await resolveSendRate(config, transport, ctx.logger);
  const redis = createRedisConnection(ctx.redisUrl);
  // Permits are spaced (1000 + 32) ms / rate: 97% of the rate at most, and 32 ms of bunching
  // between permit and SES's clock is absorbed. A permit that wakes more than 12 ms late is
  // given back rather than sent late (a late send bunches with the next one). Tuned with the
  // 200/s acceptance test: worst sliding second 196–197, average ≥ 190, no Throttling.
  const limiter = new RateLimiter({ redis, prefix: ctx.prefix, ratePerSecond: rate, marginMs: 32, staleMs: 12 });
  return {
    transport,
    limiter: {
      acquire: () => limiter.acquire(),
      reportThrottled: () => limiter.reportThrottled(),
      close: () => {
        redis.disconnect();
        ses.destroy();
      },
    },
    prepareMessages,
  };
}
