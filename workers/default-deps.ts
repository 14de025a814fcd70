/**
 * The production wiring of a worker's IO: the SES transport, the global rate limiter in
 * Redis (at SEND_RATE, else the account's MaxSendRate, else 14/s) and the compiler's
 * message factory.
 */
import Handlebars from 'handlebars';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../src/config.js';
import type { MailTransport, PrepareMessages } from '../src/campaigns/ports.js';
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

/** TEMPORARY until the compiler's prepareMessages lands: Handlebars + a minimal MIME. */
export const interimPrepareMessages: PrepareMessages = (compiled, options) => {
  const subject = Handlebars.compile(compiled.subjectTemplate, { noEscape: true });
  const html = Handlebars.compile(compiled.htmlTemplate);
  const text = Handlebars.compile(compiled.textTemplate, { noEscape: true });
  const b64 = (v: string) => Buffer.from(v, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n');
  const word = (v: string) => `=?UTF-8?B?${Buffer.from(v.replace(/[\r\n]+/g, ' '), 'utf8').toString('base64')}?=`;
  return {
    build(r) {
      const ctx = { name: r.name ?? '', email: r.email, unsubscribeUrl: r.unsubscribeUrl };
      const s = subject(ctx).replace(/[\r\n]+/g, ' ');
      const boundary = `b${randomBytes(12).toString('hex')}`;
      const to = r.email.replace(/[\r\n<>]/g, '');
      const lines = [
        `From: ${options.from.replace(/[\r\n]/g, '')}`,
        `To: ${r.name ? `${word(r.name)} <${to}>` : to}`,
        `Subject: ${word(s)}`,
        `List-Id: ${options.listId.replace(/[\r\n]/g, '')}`,
        `List-Unsubscribe: <${r.unsubscribeUrl}>`,
        'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
        'MIME-Version: 1.0',
        `Content-Type: multipart/alternative; boundary="${boundary}"`,
        '',
        `--${boundary}`,
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: base64',
        '',
        b64(text(ctx)),
        `--${boundary}`,
        'Content-Type: text/html; charset=utf-8',
        'Content-Transfer-Encoding: base64',
        '',
        b64(html(ctx)),
        `--${boundary}--`,
        '',
      ];
      return { subject: s, raw: Buffer.from(lines.join('\r\n'), 'utf8') };
    },
  };
};

export async function createDefaultDeps(config: Config, ctx: { redisUrl: string; prefix: string; logger?: Logger }): Promise<RuntimeDeps> {
  const ses = SesTransport.fromConfig(config);
  const transport = sesMailTransport(ses);
  const rate = await resolveSendRate(config, transport, ctx.logger);
  const redis = createRedisConnection(ctx.redisUrl);
  const limiter = new RateLimiter({ redis, prefix: ctx.prefix, ratePerSecond: rate });
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
    prepareMessages: interimPrepareMessages,
  };
}
