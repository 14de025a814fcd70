/**
 * Optional V8 heap limits for the worker (WORKER_HEAP_MB). Left alone, V8 grows the old
 * generation lazily under the send path's short-lived garbage (~100 KB of strings per SES
 * request), so a long campaign's worker ends up at 300+ MB RSS, most of it collectable.
 * A 128 MB old generation with 8 MB semi-spaces keeps RSS under 200 MB, at a price: V8
 * collects much more often (~25% more worker CPU per message, bench/results/send.md), and
 * its pauses land between rate-limiter permits and SES calls, which bunches requests at
 * SES. So it is off by default: accuracy of the SES rate comes first.
 * `newsletter worker` applies it when WORKER_HEAP_MB is set, unless NODE_OPTIONS or the
 * node flags already set a heap size.
 */
export const WORKER_SEMI_SPACE_MB = 8;

/** Node flags to add for the worker: [] unless WORKER_HEAP_MB is set and no heap size is given. */
export function workerHeapArgs(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? '',
  heapMb: string | undefined = process.env.WORKER_HEAP_MB,
): string[] {
  const mb = Number(heapMb);
  if (!heapMb || !Number.isInteger(mb) || mb <= 0) return [];
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => /^--max[-_]old[-_]space[-_]size(=|$)/.test(a));
  return given ? [] : [`--max-old-space-size=${mb}`, `--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`];
}
