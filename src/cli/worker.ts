/** `worker`: run the send pipeline's fan-out and send processors until SIGTERM. */
import { join } from 'node:path';
import type { Command } from 'commander';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('process send jobs (run one or more, on any machine sharing Redis and the database)')
    .action(async () => {
      // bin/newsletter.js runs the compiled worker (dist/) when it is current; this is the
      // TypeScript path (no build, or sources changed since). A re-executed worker (WORKER_HEAP_MB)
      // needs tsx's loader on its command line: this process may have registered it in code.
      const { startWorker } = await import('../../workers/index.js');
      // Resolved here: a bare `--import tsx` would be looked up from the current directory.
      await startWorker(join(import.meta.dirname, '../../workers/index.ts'), ['--import', import.meta.resolve('tsx')]);
      // Keep running until a signal: the BullMQ workers hold the event loop open.
      await new Promise<never>(() => undefined);
    });
}
