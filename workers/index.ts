/**
 * Worker process entry: `tsx workers/index.ts` or `newsletter worker`. Runs the fan-out
 * and send processors and the reconciler until SIGTERM/SIGINT, then stops taking jobs,
 * lets in-flight sends finish (their ledger rows settle) and exits 0.
 */
import { loadConfig, type Config } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startWorkerRuntime, type WorkerRuntime } from './runtime.js';
import { createDefaultDeps } from './default-deps.js';
import { runWithNodeFlags, workerHeapArgsFor } from './heap-cap.js';
import { requireSigningSecrets } from '../src/secrets/signing-secrets.js';
import { reportError } from '../src/cli/report-error.js';

export async function runWorkerProcess(config: Config): Promise<WorkerRuntime> {
  // The worker signs every mailed unsubscribe link: refuse a missing or guessable secret.
  requireSigningSecrets(config, 'worker');
  const logger = createLogger(config.LOG_LEVEL, 'worker');
  const runtime = await startWorkerRuntime({ config, logger, createDeps: createDefaultDeps });
  logger.info({ workerId: runtime.workerId, concurrency: config.WORKER_CONCURRENCY }, 'worker started');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing in-flight sends');
    runtime
      .close()
      .then(() => {
        logger.info('worker stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err: String(err) }, 'error while stopping');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return runtime;
}

/**
 * `newsletter worker`: run until a signal. With WORKER_HEAP_MB (workers/heap-cap.ts) the
 * worker runs in a child process started with the heap flag (`entry`, plus `loaderArgs`,
 * e.g. tsx's loader for a .ts entry, unless this process already has one); otherwise here.
 * Prints the ready line tests and supervisors wait for.
 */
export async function startWorker(entry: string, loaderArgs: readonly string[] = []): Promise<void> {
  const config = requireSigningSecrets(loadConfig(), 'worker');
  const capArgs = workerHeapArgsFor(config);
  if (capArgs.length > 0) {
    const loader = process.execArgv.some((a) => a.includes('tsx')) ? [] : loaderArgs;
    await runWithNodeFlags(entry, [...loader, ...capArgs]);
  }
  await runAndAnnounce(config);
}

/** Run the worker here and print the ready line tests and supervisors wait for. */
async function runAndAnnounce(config: Config): Promise<void> {
  await runWorkerProcess(config);
  process.stdout.write('worker ready\n');
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (isMain) {
  try {
    await runAndAnnounce(loadConfig());
  } catch (err) {
    process.exit(reportError(err));
  }
}
