/**
 * Optional V8 heap limit for the worker (WORKER_HEAP_MB). Left alone, V8 grows the old
 * generation lazily under the send path's short-lived garbage (~150 KB of strings and
 * buffers per SES request), so a busy worker ends up at 250–330 MB RSS, most of it
 * collectable. `--max-old-space-size=128` keeps a compiled worker (dist/, `npm run build`)
 * under 200 MB at no measurable CPU cost (bench/results/send.md); under tsx, whose loader
 * leaves less room below the cap, V8 collects more often.
 * `newsletter worker` applies it when WORKER_HEAP_MB is set, unless NODE_OPTIONS or the node
 * flags already set a heap size (NODE_OPTIONS=--max-old-space-size=128 does the same in one
 * process: docker-compose.yml's workers run that way).
 */
import { spawn } from 'node:child_process';
import type { Config } from '../src/config.js';

/** Node flags to add for the worker: [] unless WORKER_HEAP_MB is set and no heap size is given. */
export function workerHeapArgs(execArgv: readonly string[], nodeOptions: string, heapMb: string | number | undefined): string[] {
  const mb = Number(heapMb);
  if (!heapMb || !Number.isInteger(mb) || mb <= 0) return [];
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => /^--max[-_]old[-_]space[-_]size(=|$)/.test(a));
  return given ? [] : [`--max-old-space-size=${mb}`];
}

/** workerHeapArgs for this process: its node flags and the configuration. */
export function workerHeapArgsFor(config: Pick<Config, 'NODE_OPTIONS' | 'WORKER_HEAP_MB'>): string[] {
  return workerHeapArgs(process.execArgv, config.NODE_OPTIONS, config.WORKER_HEAP_MB);
}

/**
 * Run `entry` in a child node process with `flags` (V8 heap limits must be given when a
 * process starts); this process only relays SIGTERM/SIGINT and exits with the child's code.
 */
export async function runWithNodeFlags(entry: string, flags: readonly string[]): Promise<never> {
  const child = spawn(process.execPath, [...process.execArgv, ...flags, entry], { stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => child.kill(signal));
  const code = await new Promise<number>((resolve) => child.once('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
  process.exit(code);
}
