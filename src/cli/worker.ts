/** `worker`: run the send pipeline's fan-out and send processors until SIGTERM. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Command } from 'commander';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('process send jobs (run one or more, on any machine sharing Redis and the database)')
    .action(async () => {
      const { workerHeapArgs } = await import('../../workers/heap-cap.js');
      const capArgs = workerHeapArgs();
      if (capArgs.length > 0) {
        // WORKER_HEAP_MB asks for heap limits (workers/heap-cap.ts says why): re-execute the
        // worker entry with them; this process then just relays signals and the exit code.
        const entry = join(import.meta.dirname, '../../workers/index.ts');
        const child = spawn(process.execPath, [...process.execArgv, ...capArgs, entry], { stdio: 'inherit' });
        for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => child.kill(signal));
        const code = await new Promise<number>((resolve) => child.once('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
        process.exit(code);
      }
      const { runWorkerProcess } = await import('../../workers/index.js');
      await runWorkerProcess();
      // Keep running until a signal: the BullMQ workers hold the event loop open.
      await new Promise<never>(() => undefined);
    });
}
