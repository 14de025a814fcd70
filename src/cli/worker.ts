/** `worker`: run the send pipeline's fan-out and send processors until SIGTERM. */
import type { Command } from 'commander';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('process send jobs (run one or more, on any machine sharing Redis and the database)')
    .action(async () => {
      const { runWorkerProcess } = await import('../../workers/index.js');
      await runWorkerProcess();
      // Keep running until a signal: the BullMQ workers hold the event loop open.
      await new Promise<never>(() => undefined);
    });
}
