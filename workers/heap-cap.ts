/**
 * The worker's V8 heap limits. Left alone, V8 sizes the old generation from the machine's
 * memory and grows it lazily under the send path's short-lived garbage (~100 KB of
 * strings per SES request), and uses 16 MB semi-spaces for the young generation, so a long
 * campaign's worker ends up at 300+ MB RSS with most of it collectable garbage. A 128 MB
 * old generation holds the worker's live data several times over, and 8 MB semi-spaces;
 * together they keep RSS under the 200 MB goal, at a price: V8 collects much more often,
 * ~25% more worker CPU per message (measured back to back: bench/results/send.md).
 * A throughput-first deployment sets NODE_OPTIONS=--max-old-space-size=N instead.
 * `newsletter worker` applies them unless NODE_OPTIONS or the node flags set a heap size.
 */
export const WORKER_HEAP_MB = 128;
export const WORKER_SEMI_SPACE_MB = 8;

/** Node flags to add for the worker: [] when a --max-old-space-size is already given. */
export function workerHeapArgs(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => /^--max[-_]old[-_]space[-_]size(=|$)/.test(a));
  return given ? [] : [`--max-old-space-size=${WORKER_HEAP_MB}`, `--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`];
}
