import { defineConfig } from 'vitest/config';

/**
 * Two projects, run one after the other by `npm test`:
 * - `main`: everything that asserts behaviour only; files run in parallel (each test
 *   isolates itself: unique queue prefix, unique database).
 * - `timing`: the tests that drive the rate limiter and the SES simulator at a rate
 *   (worst sliding second ≤ SEND_RATE, exactly once, Throttling answers rare) and the
 *   crash tests. Their files run one at a time, after the parallel project has finished:
 *   they are heavy, and HTTP jitter on crowded cores is what could bunch sends at the
 *   simulator. None asserts a speed (an average rate, a latency, a deadline): those
 *   depend on the CPU a run gets and are measured by bench/ (`npm run bench`), so every
 *   test holds however slow the machine is.
 */
const TIMING = [
  'test/send/send-rate.test.ts',
  'test/send/crash-safety.test.ts',
  'test/send/postgres-restart.test.ts',
  'test/send/redis-loss-requeue.test.ts',
  'test/send/fenced-send.test.ts',
  'test/send/campaign-control.test.ts',
  'test/send/canary-wave.test.ts',
  'test/send/canary-crash.test.ts',
  'test/rate-limiter/**/*.test.ts',
  'test/pages/confirmation-priority.test.ts',
  'test/send/retention-under-load.test.ts',
];

export default defineConfig({
  test: {
    // Generous: CLI tests spawn several tsx processes, which take seconds each on busy cores.
    testTimeout: 180_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'workers/**/*.test.ts'],
          exclude: TIMING,
          maxWorkers: 2,
        },
      },
      {
        extends: true,
        test: {
          name: 'timing',
          include: TIMING,
          fileParallelism: false,
          maxWorkers: 1,
        },
      },
    ],
  },
});
