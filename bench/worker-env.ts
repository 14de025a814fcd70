/**
 * The environment docker-compose.yml's `worker` service gives `newsletter worker` beyond the
 * application's own variables, which the send benches give their worker processes so they
 * measure what is deployed (test/deploy/docker-compose.test.ts keeps the two equal).
 *
 * - NODE_OPTIONS: V8's heap sizes (see docker-compose.yml).
 * - MALLOC_ARENA_MAX=2: glibc's malloc, not read by the application. By default glibc gives
 *   each thread that allocates (V8's GC and compiler threads, libuv's pool) an arena of its own,
 *   up to 8 per core, and memory freed in one arena is not reused by another; two arenas keep
 *   the worker's peak RSS ~10 MB lower in a 100,000-subscriber campaign (issue #15).
 *
 * BENCH_WORKER_NODE_OPTIONS / BENCH_WORKER_MALLOC_ARENA_MAX override them ('' = unset).
 */
export const DEPLOYED_WORKER_ENV = {
  NODE_OPTIONS: '--max-old-space-size=160 --max-semi-space-size=8',
  MALLOC_ARENA_MAX: '2',
} as const;

/** The worker processes' environment: `base` with the deployed settings (or their BENCH_WORKER_* overrides). */
export function benchWorkerEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const [name, value] of Object.entries(DEPLOYED_WORKER_ENV)) {
    const chosen = process.env[`BENCH_WORKER_${name}`] ?? value;
    if (chosen === '') delete env[name];
    else env[name] = chosen;
  }
  return env;
}
