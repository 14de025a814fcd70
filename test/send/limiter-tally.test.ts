/**
 * A stopping worker says what its permits cost (workers/runtime.ts `logLimiterTally`): the
 * production limiter the composition root builds reports its counters through the port, and the
 * log line carries them as fields and in words. A worker that sent nothing says nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openCompositionRoot } from '../../src/composition-root.js';
import { logLimiterTally } from '../../workers/runtime.js';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';

function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('rate limiter tally at worker shutdown', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it("the composition root's limiter counts its permits and round trips", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nl-tally-'));
    const prefix = uniquePrefix('tally');
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }), () => deletePrefix(prefix));
    const root = openCompositionRoot(
      loadConfig({ DATABASE_URL: `sqlite:${join(dir, 'tally.db')}`, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, SEND_RATE: '200', LOG_LEVEL: 'silent' }),
    );
    cleanup.push(() => root.close());
    const limiter = await root.rateLimiter();
    expect(limiter.tally?.().granted).toBe(0);
    await Promise.all([limiter.acquire(), limiter.acquire(), limiter.acquire()]);
    const tally = limiter.tally!();
    expect(tally.granted).toBe(3);
    expect(tally.reservations).toBeGreaterThanOrEqual(1);
    expect(tally.reservations).toBeLessThanOrEqual(3 + tally.staleSlots);
    // A snapshot: later permits do not change what was handed out.
    await limiter.acquire();
    expect(tally.granted).toBe(3);
    expect(limiter.tally!().granted).toBe(4);
  });

  it('logs the counters as fields and in words, and nothing for a worker that sent nothing', () => {
    const { logger, lines } = capturingLogger();
    logLimiterTally({ granted: 0, staleSlots: 0, pushedBack: 0, lateGrants: 0, reservations: 0, redisRetries: 0 }, logger);
    logLimiterTally(undefined, logger);
    expect(lines).toEqual([]);
    logLimiterTally({ granted: 5000, staleSlots: 212, pushedBack: 68, lateGrants: 41, reservations: 1027, redisRetries: 0 }, logger);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.rateLimiter).toEqual({ granted: 5000, staleSlots: 212, pushedBack: 68, lateGrants: 41, reservations: 1027 });
    expect(lines[0]!.msg).toBe('rate limiter: 5000 permits granted, 212 slots given up late, schedule pushed back 68 times, 41 granted late, 1027 reservation round trips');
  });
});
