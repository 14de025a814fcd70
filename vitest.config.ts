import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'workers/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests share one Redis and one Postgres; each test isolates itself
    // (unique queue prefix, unique database), so files may run in parallel.
    pool: 'forks',
    maxWorkers: 2,
  },
});
