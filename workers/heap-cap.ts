/**
 * The worker's V8 heap cap. Left alone, V8 sizes the old generation from the machine's
 * memory and grows it lazily under the send path's short-lived garbage (~100 KB of
 * strings per SES request), so a long campaign's worker ends up at 300+ MB RSS with most
 * of it collectable. 160 MB of heap holds the worker's live data many times over
 * (measured: bench/results/send.md) while keeping RSS under the 200 MB goal.
 * `newsletter worker` applies it unless NODE_OPTIONS or the node flags already set one.
 */
export const WORKER_HEAP_MB = 160;

/** Node flags to add for the worker: [] when a --max-old-space-size is already given. */
export function workerHeapArgs(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => /^--max[-_]old[-_]space[-_]size(=|$)/.test(a));
  return given ? [] : [`--max-old-space-size=${WORKER_HEAP_MB}`];
}
