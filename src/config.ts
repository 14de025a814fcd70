import { z } from 'zod';
import { ConfigError } from './errors.js';

/**
 * The one schema for all environment configuration (see ../shared/design.md, Contract).
 * Everything is optional except where a command needs it; commands call
 * `requireConfig` for the fields they cannot run without.
 */
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const positiveNumber = (fallback: number) => z.coerce.number().positive().default(fallback);

export const configSchema = z.object({
  DATABASE_URL: z
    .string()
    .default('sqlite:./data/newsletter.db')
    .refine((v) => /^(sqlite:|postgres(ql)?:\/\/)/.test(v), 'must start with sqlite: or postgres://'),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379').refine((v) => /^rediss?:\/\//.test(v), 'must be a redis:// URL'),
  QUEUE_PREFIX: z
    .string()
    .default('newsletter')
    .refine((v) => /^[A-Za-z0-9_-]+$/.test(v), 'letters, digits, _ and - only'),
  SES_REGION: z.string().default('us-east-1'),
  SES_ENDPOINT: optionalString.pipe(z.url().optional()),
  SES_CONFIGURATION_SET: optionalString,
  /** Messages per second, global across all workers. Unset: SES MaxSendRate, else 14. */
  SEND_RATE: z.coerce.number().positive().optional(),
  /**
   * How long SES gets, after the latest moment a send's request can still be in flight
   * (claim + SES_REQUEST_TIMEOUT_S), to confirm it with a Send event before the row is resent.
   * Must be at least twice SES_REQUEST_TIMEOUT_S (checked below).
   */
  UNCERTAIN_GRACE_S: positiveNumber(300),
  /**
   * Whole SendRawEmail request deadline, counted from the ledger claim: no request is started
   * or left waiting after it (src/ses/ses-transport.ts). Also the claim's lease (see
   * workers/send-processor.ts).
   */
  SES_REQUEST_TIMEOUT_S: positiveNumber(15),
  /** How late a scheduled send may fire on its own after downtime. */
  SCHEDULE_GRACE_S: positiveNumber(3600),
  FROM_ADDRESS: optionalString,
  PUBLIC_URL: z.url().default('http://localhost:3000').transform((v) => v.replace(/\/+$/, '')),
  SITE_URL: optionalString.pipe(z.url().optional()).transform((v) => v?.replace(/\/+$/, '')),
  SUBJECT_TEMPLATE: z.string().default('{{title}}'),
  UNSUBSCRIBE_SECRET: optionalString,
  /** Previous secret, still accepted for tokens while rotating. */
  UNSUBSCRIBE_SECRET_OLD: optionalString,
  SNS_TOPIC_ARNS: optionalString.transform((v) =>
    v ? v.split(',').map((s) => s.trim()).filter(Boolean) : [],
  ),
  SNS_CERTS: optionalString,
  /**
   * Where POST /api/campaigns may read issue files from (`path`, confined to this directory:
   * no `..`, no symlink leading out). Unset: the API takes Markdown bodies only.
   */
  ISSUES_DIR: optionalString,
  /**
   * Oldest SNS message Timestamp accepted, in seconds (0 = no bound). SNS retries an HTTP/S
   * endpoint for at most 3,600 s; the default adds 300 s of clock skew. The events table
   * (the MessageId replay gate) must keep rows at least this long: src/events/sns-replay-window.ts.
   */
  SNS_MAX_AGE_S: z.coerce.number().int().min(0).default(3900),
  /**
   * Retention: finished (sent/cancelled) campaigns older than this many days lose their
   * per-recipient ledger and event rows (their totals, clicks per link and every suppression
   * are kept; src/campaigns/ledger-retention.ts). Unset = keep everything. Workers prune
   * periodically; `newsletter store prune` does it by hand.
   */
  LEDGER_RETENTION_DAYS: optionalString.pipe(z.coerce.number<string | undefined>().positive().optional()),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Interface to listen on: loopback unless asked (containers set HOST=0.0.0.0). */
  HOST: z.string().default('127.0.0.1'),
  /** Bearer token GET /metrics requires; unset = open (then keep it off public networks, or use METRICS_PORT). */
  METRICS_TOKEN: optionalString.pipe(
    z
      .string()
      .min(16, 'at least 16 characters')
      .max(512)
      .regex(/^[A-Za-z0-9._~+/=-]+$/, 'letters, digits and . _ ~ + / = - only (it travels as a bearer token)')
      .optional(),
  ),
  /** Serve /metrics on this port (same HOST) instead of PORT. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Postal/sender line required in commercial mail footers (CAN-SPAM). */
  POSTAL_ADDRESS: optionalString,
  LIST_NAME: z.string().default('Newsletter'),
  BOUNCE_RATE_LIMIT: z.coerce.number().min(0).max(1).default(0.05),
  COMPLAINT_RATE_LIMIT: z.coerce.number().min(0).max(1).default(0.001),
  BREAKER_MIN_DELIVERIES: z.coerce.number().int().min(1).default(100),
  /**
   * Canary wave by default for every send that does not say (`send --canary`, the API's
   * `canary`): this share of the audience first (`5%` or `5`; 0 < p ≤ 100). Unset or 0 = off.
   */
  CANARY_PERCENT: optionalString.pipe(
    z
      .string()
      .regex(/^\d+(\.\d+)?%?$/, 'a percentage such as 5% or 0.5')
      .transform((v) => Number(v.replace('%', '')))
      .pipe(z.number().min(0).max(100))
      .optional(),
  ),
  /**
   * How long the rest of a canary campaign waits after the wave is out, in minutes (fractions
   * allowed: 0.05 = 3 s, for tests and demos). Bounces come within minutes, complaints later.
   */
  CANARY_WAIT_MIN: positiveNumber(60),
  /**
   * Per mailbox provider (src/events/mailbox-provider.ts; `other` is not one provider and is
   * left to the campaign-wide limits): pause when one provider's bounce or complaint rate
   * reaches these, once at least BREAKER_PROVIDER_MIN_SENT of the campaign's accepted
   * messages went to it. Lower than the campaign-wide 5%: one provider refusing mail (e.g.
   * Microsoft's 550 5.7.515) hides in the account-wide average.
   */
  BREAKER_PROVIDER_BOUNCE_RATE: z.coerce.number().min(0).max(1).default(0.03),
  BREAKER_PROVIDER_COMPLAINT_RATE: z.coerce.number().min(0).max(1).default(0.003),
  BREAKER_PROVIDER_MIN_SENT: z.coerce.number().int().min(1).default(100),
  /** A click this soon after delivery is a link scanner's, not a reader's (src/events/engagement-class.ts). */
  SCANNER_CLICK_WINDOW_S: z.coerce.number().min(0).max(3600).default(10),
  TRANSIENT_BOUNCE_LIMIT: z.coerce.number().int().min(1).default(3),
  TRANSIENT_BOUNCE_WINDOW_DAYS: positiveNumber(30),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(50),
  /**
   * Trust X-Forwarded-For from these proxies (Fastify trustProxy: "true", a hop count, or
   * comma-separated addresses/CIDRs). Unset: trust nobody, so clients cannot forge their IP
   * to dodge per-IP rate limits.
   */
  TRUST_PROXY: optionalString,
  /** Optional V8 old-generation cap for `newsletter worker` (workers/heap-cap.ts); unset = V8's default. */
  WORKER_HEAP_MB: z.coerce.number().int().positive().optional(),
  /** Node's own flags; read only to see whether a heap size is already given (workers/heap-cap.ts). */
  NODE_OPTIONS: z.string().default(''),
  /**
   * Whether the environment names AWS credentials (the SDK reads them itself). Without either,
   * a local SES_ENDPOINT gets dummy credentials, so nobody has to invent keys for a simulator.
   */
  AWS_ACCESS_KEY_ID: optionalString,
  AWS_PROFILE: optionalString,
  /** Where `newsletter demo` looks for redis-server when no Redis answers. */
  PATH: z.string().default(''),
  /** How often a campaign paused for the daily quota checks GetSendQuota to resume. */
  QUOTA_RECHECK_S: positiveNumber(300),
  /** BullMQ job lock: a job held by a killed worker returns to the queue after this. */
  JOB_LOCK_S: positiveNumber(30),
  /** Queued ledger rows untouched this long get their send jobs re-added (lost Redis). */
  STALE_QUEUED_S: positiveNumber(60),
  /** HMAC key for sign-up confirmation and resubscribe links; unset = UNSUBSCRIBE_SECRET. */
  SIGNUP_SECRET: optionalString,
  /** Unconfirmed sign-ups (and their confirmation links) expire after this many hours. */
  PENDING_EXPIRY_H: positiveNumber(48),
  /** Lists the public sign-up form may subscribe to (comma-separated); the first is the default. */
  SIGNUP_LISTS: z
    .string()
    .default('default')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
  /** Test messages (POST /api/campaigns/:id/test recipients) one API token may send per minute. */
  TEST_SENDS_PER_MIN: z.coerce.number().int().min(1).default(10),
  /** Sign-up POSTs accepted per client IP per hour. */
  SIGNUP_RATE_PER_IP: z.coerce.number().int().min(1).default(10),
  /** Confirmation mails sent to one address per day (further requests are answered, not mailed). */
  SIGNUP_RATE_PER_ADDRESS: z.coerce.number().int().min(1).default(3),
}).superRefine((c, ctx) => {
  const problem = uncertainGraceProblem(c);
  if (problem) ctx.addIssue({ code: 'custom', path: ['UNCERTAIN_GRACE_S'], message: problem });
});

/** How many SES request timeouts the uncertainty grace must span at least. */
export const MIN_GRACE_PER_REQUEST_TIMEOUT = 2;

/**
 * Why this grace is unsafe, or null. The grace starts when the claim's lease ends (the latest
 * moment a send's request can still be in flight); a request SES was too slow to answer within
 * SES_REQUEST_TIMEOUT_S may still be accepted and published about as late again, so a grace
 * shorter than twice the timeout would resend mail SES is about to confirm (issue #17).
 */
export function uncertainGraceProblem(c: Pick<Config, 'UNCERTAIN_GRACE_S' | 'SES_REQUEST_TIMEOUT_S'>): string | null {
  if (c.UNCERTAIN_GRACE_S >= MIN_GRACE_PER_REQUEST_TIMEOUT * c.SES_REQUEST_TIMEOUT_S) return null;
  return (
    `UNCERTAIN_GRACE_S (${c.UNCERTAIN_GRACE_S}) must be at least ${MIN_GRACE_PER_REQUEST_TIMEOUT} × SES_REQUEST_TIMEOUT_S ` +
    `(${c.SES_REQUEST_TIMEOUT_S}), i.e. ≥ ${MIN_GRACE_PER_REQUEST_TIMEOUT * c.SES_REQUEST_TIMEOUT_S}: raise UNCERTAIN_GRACE_S or lower SES_REQUEST_TIMEOUT_S`
  );
}

/**
 * A row claimed before `now - uncertainAfterMs(config)` and not confirmed can be requeued: its
 * request ended (or was never started) by claim + SES_REQUEST_TIMEOUT_S, and SES has had the
 * grace since then to publish its Send event.
 */
export function uncertainAfterMs(c: Pick<Config, 'UNCERTAIN_GRACE_S' | 'SES_REQUEST_TIMEOUT_S'>): number {
  return (c.SES_REQUEST_TIMEOUT_S + c.UNCERTAIN_GRACE_S) * 1000;
}

export type Config = z.infer<typeof configSchema>;

/** Parse configuration from an environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid environment configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** Narrow a config to one where the named fields are set, or throw naming the missing ones. */
export function requireConfig<K extends keyof Config>(
  config: Config,
  keys: readonly K[],
  forWhat: string,
): Config & { [P in K]-?: NonNullable<Config[P]> } {
  const missing = keys.filter((k) => config[k] === undefined || config[k] === '');
  if (missing.length > 0) {
    throw new ConfigError(`${forWhat} needs ${missing.join(', ')} to be set in the environment`);
  }
  return config as Config & { [P in K]-?: NonNullable<Config[P]> };
}
