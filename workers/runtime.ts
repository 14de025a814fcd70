/**
 * A worker process's moving parts: BullMQ workers for the fan-out and send queues, the
 * periodic reconciler, the sent-writer, fleet counters and the confirmation worker. The
 * objects they share with other entry points (store, Redis, queues, repositories,
 * orchestrator, SES transport, rate limiter) come from the composition root. Several
 * runtimes (processes, machines) share one Redis and one database; correctness comes from
 * the ledger's conditional updates, not from there being one worker.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../src/config.js';
import { requireConfig, uncertainAfterMs } from '../src/config.js';
import type { Store } from '../src/store/db.js';
import type { CampaignOrchestrator } from '../src/campaigns/campaign-orchestrator.js';
import type { MailTransport, PrepareMessages, RateLimiter } from '../src/campaigns/ports.js';
import { openCompositionRoot, type CompositionRoot } from '../src/composition-root.js';
import { createRedisConnection } from '../src/queue/connection.js';
import { FANOUT_QUEUE, SEND_BATCH, SEND_QUEUE, type FanoutJobData, type SendJobData } from '../src/queue/send-queues.js';
import type { ResolvedSendRate } from '../src/ses/send-rate.js';
import type { RateLimiterCounters } from '../src/queue/rate-limiter.js';
import { createFanoutProcessor, type FanoutOptions } from './fanout-processor.js';
import { createSendProcessor } from './send-processor.js';
import { SentWriter } from './sent-writer.js';
import { ClaimBatcher } from './claim-batcher.js';
import { SentSpill } from './sent-spill.js';
import { createReconciler } from './reconciler.js';
import { startRetentionJob } from './retention-job.js';
import { LedgerRetention, type PrunedCampaign, type RetentionOptions } from '../src/campaigns/ledger-retention.js';
import { countOutcome, instrumentTransport } from '../src/metrics/instrument.js';
import { FleetCounters } from '../src/metrics/fleet-counters.js';
import { metrics } from '../src/metrics/registry.js';
import { startConfirmationRuntime } from '../src/signup/confirmation-runtime.js';
import { createDefaultDeps } from './default-deps.js';

export interface RuntimeDeps {
  transport: MailTransport;
  limiter: RateLimiter & { close?: () => Promise<void> | void };
  prepareMessages: PrepareMessages;
  /** The rate the limiter runs at and where it came from (the production deps say). */
  sendRate?: ResolvedSendRate;
}

export interface CreateDepsContext {
  redisUrl: string;
  prefix: string;
  logger?: Logger;
  /** The runtime's composition root, to take the shared transport and limiter from. */
  root?: CompositionRoot;
}

export interface WorkerRuntimeOptions {
  config: Config;
  logger?: Logger;
  /** The process's composition root (the demo shares its server's); default: one of its own, closed with the runtime. */
  root?: CompositionRoot;
  /** Builds the SES transport, rate limiter and message factory (default: the root's, createDefaultDeps); tests inject fakes. */
  createDeps?: (config: Config, ctx: CreateDepsContext) => Promise<RuntimeDeps>;
  sweepIntervalMs?: number;
  fanout?: FanoutOptions;
  /** Start the BullMQ workers (default true); false = sweep only (tests). */
  runWorkers?: boolean;
  /** How often the retention prune runs when LEDGER_RETENTION_DAYS is set (default 1 h). */
  retentionIntervalMs?: number;
  /** Batch size and pause of the retention prune (defaults of LedgerRetention). */
  retention?: Pick<RetentionOptions, 'batchSize' | 'pauseMs'>;
}

export interface WorkerRuntime {
  workerId: string;
  store: Store;
  orchestrator: CampaignOrchestrator;
  /** The send rate the limiter was built with, when the deps report it. */
  sendRate?: ResolvedSendRate;
  sweep(): Promise<void>;
  /** Run the retention prune now; what it pruned (empty when LEDGER_RETENTION_DAYS is unset or another worker holds the lock). */
  prune(): Promise<PrunedCampaign[]>;
  /** Stop taking jobs, let in-flight ones finish, close connections. */
  close(): Promise<void>;
}

export async function startWorkerRuntime(options: WorkerRuntimeOptions): Promise<WorkerRuntime> {
  const config = requireConfig(options.config, ['FROM_ADDRESS', 'UNSUBSCRIBE_SECRET'], 'the send worker');
  const root = options.root ?? openCompositionRoot(config, { logger: options.logger });
  const logger = options.logger ?? root.logger;
  const workerId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  let parts: Awaited<ReturnType<typeof sharedParts>>;
  try {
    parts = await sharedParts(root, options, logger);
  } catch (err) {
    if (!options.root) await root.close();
    throw err;
  }
  const { store, campaigns, ledger, audience, queues, orchestrator, redis, deps } = parts;
  // Workers serve no /metrics: their send and SES-error counts reach the server's through Redis.
  const fleet = new FleetCounters(redis, config.QUEUE_PREFIX);
  const detachFleet = metrics.attachFleet(fleet);
  // Accepted sends are written even through a database outage (retried until written); a
  // worker stopped during one leaves the rest in Redis for the next sweep (sent-spill.ts).
  const sentWriter = new SentWriter(ledger, {
    onWriteError: (err, info) => logger?.warn({ err: errorText(err), ...info }, "'sent' write failed; the accepted sends are kept and retried"),
  });
  const spill = new SentSpill(redis, config.QUEUE_PREFIX);
  const sendProcessor = createSendProcessor({
    workerId,
    campaigns,
    ledger,
    claims: new ClaimBatcher(ledger, workerId),
    sentWriter,
    audience,
    transport: instrumentTransport(deps.transport),
    limiter: deps.limiter,
    prepareMessages: deps.prepareMessages,
    orchestrator,
    logger,
    from: config.FROM_ADDRESS,
    publicUrl: config.PUBLIC_URL,
    unsubscribeSecret: config.UNSUBSCRIBE_SECRET,
    listName: config.LIST_NAME,
    claimLeaseMs: config.SES_REQUEST_TIMEOUT_S * 1000,
    // WORKER_CONCURRENCY counts recipients in flight: jobs of SEND_BATCH, sent side by side.
    recipientConcurrency: config.WORKER_CONCURRENCY,
    onOutcome: countOutcome,
  });
  const processFanout = createFanoutProcessor({ campaigns, ledger, audience, queues, logger, canary: orchestrator }, options.fanout);
  const reconciler = createReconciler(
    { campaigns, ledger, orchestrator, queues, transport: deps.transport, redis, prefix: config.QUEUE_PREFIX, workerId, logger },
    {
      uncertainAfterMs: uncertainAfterMs(config),
      scheduleGraceMs: config.SCHEDULE_GRACE_S * 1000,
      staleQueuedMs: config.STALE_QUEUED_S * 1000,
      quotaRecheckMs: config.QUOTA_RECHECK_S * 1000,
    },
  );

  const lockDuration = config.JOB_LOCK_S * 1000;
  const workers: Worker[] = [];
  let confirmations: { close(): Promise<void> } | null = null;
  if (options.runWorkers !== false) {
    const common = {
      prefix: config.QUEUE_PREFIX,
      lockDuration,
      stalledInterval: Math.max(500, Math.floor(lockDuration / 2)),
      // A job may be held by several killed workers in a row; the ledger makes retries safe.
      maxStalledCount: 1000,
    };
    const sendWorker = new Worker<SendJobData>(SEND_QUEUE, (job, token) => sendProcessor.process(job, token), {
      ...common,
      connection: createRedisConnection(config.REDIS_URL),
      concurrency: Math.max(1, Math.ceil(config.WORKER_CONCURRENCY / SEND_BATCH)),
    });
    const fanoutWorker = new Worker<FanoutJobData>(FANOUT_QUEUE, (job, token) => processFanout(job, token), {
      ...common,
      connection: createRedisConnection(config.REDIS_URL),
      concurrency: 4,
    });
    // Double opt-in mails: own queue and worker (never behind a campaign), same rate limiter.
    confirmations = startConfirmationRuntime(config, { store, transport: deps.transport, limiter: deps.limiter, logger });
    for (const w of [sendWorker, fanoutWorker]) {
      w.on('error', (err) => logger?.error({ err: err.message }, 'worker error'));
      workers.push(w);
    }
  }

  let sweeping: Promise<void> | null = null;
  const runSweep = async () => {
    if (sweeping) return sweeping;
    sweeping = replaySpill()
      .then(() => reconciler.sweep())
      .catch((err: unknown) => logger?.error({ err: errorText(err) }, 'sweep failed'))
      .finally(() => {
      sweeping = null;
    });
    return sweeping;
  };
  const replaySpill = async () => {
    const written = await spill.replay(ledger);
    if (written > 0) logger?.info({ rows: written }, "wrote accepted sends a stopped worker had left in Redis");
  };
  const timer = setInterval(() => void runSweep(), options.sweepIntervalMs ?? 1000);
  void runSweep();

  const retentionJob =
    config.LEDGER_RETENTION_DAYS === undefined
      ? null
      : startRetentionJob(
          {
            retention: new LedgerRetention((await root.repositories()).retention, {
              retentionDays: config.LEDGER_RETENTION_DAYS,
              snsMaxAgeS: config.SNS_MAX_AGE_S,
              uncertainAfterMs: uncertainAfterMs(config),
              ...options.retention,
            }),
            redis,
            prefix: config.QUEUE_PREFIX,
            workerId,
            logger,
          },
          { intervalMs: options.retentionIntervalMs ?? 3_600_000 },
        );

  let closed = false;
  return {
    workerId,
    store,
    orchestrator,
    ...(deps.sendRate ? { sendRate: deps.sendRate } : {}),
    sweep: runSweep,
    prune: async () => (await retentionJob?.run()) ?? [],
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await retentionJob?.close();
      // In-flight jobs finish; if the database is down, their accepted sends are retried for
      // a bounded time, then kept in Redis for the next worker instead of holding the exit.
      sentWriter.giveUpAfter(SHUTDOWN_WRITE_WAIT_MS, async (rows) => {
        await spill.spill(rows);
        logger?.warn({ rows: rows.length }, "database unreachable at shutdown: accepted sends kept in Redis for the next worker");
      });
      await Promise.all(workers.map((w) => w.close()));
      await confirmations?.close();
      await sweeping;
      await sentWriter.flush();
      sendProcessor.close();
      logLimiterTally(deps.limiter.tally?.(), logger);
      await deps.limiter.close?.();
      detachFleet();
      await fleet.close();
      if (!options.root) await root.close();
    },
  };
}

/**
 * What this process's permits cost, said once as the worker stops: the slots it gave up because
 * it woke too late for them, the times it pushed the fleet's schedule back, the permits granted
 * late. Each is throughput lost below SEND_RATE (issue #15: where a single worker at 500/s loses
 * its share); a worker that sent nothing says nothing.
 */
export function logLimiterTally(tally: Readonly<RateLimiterCounters> | undefined, logger: Logger | undefined): void {
  if (!tally || tally.granted === 0) return;
  const { granted, staleSlots, pushedBack, lateGrants, reservations } = tally;
  logger?.info(
    { rateLimiter: { granted, staleSlots, pushedBack, lateGrants, reservations } },
    `rate limiter: ${granted} permits granted, ${staleSlots} slots given up late, schedule pushed back ${pushedBack} times, ${lateGrants} granted late, ${reservations} reservation round trips`,
  );
}

/** How long a stopping worker keeps retrying 'sent' writes before spilling them to Redis (under Docker's 10 s stop timeout). */
const SHUTDOWN_WRITE_WAIT_MS = 5000;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What the runtime takes from the root; Redis first, so an unreachable one is a ConfigError naming REDIS_URL. */
async function sharedParts(root: CompositionRoot, options: WorkerRuntimeOptions, logger: Logger) {
  const { config } = root;
  const redis = await root.redis();
  const store = await root.store();
  const createDeps = options.createDeps ?? createDefaultDeps;
  return {
    redis,
    store,
    campaigns: await root.campaigns(),
    ledger: await root.ledger(),
    audience: await root.audience(),
    queues: await root.queues(),
    orchestrator: await root.orchestrator(),
    deps: await createDeps(config, { redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX, logger, root }),
  };
}
