/**
 * Sends happen in worker processes, which serve no /metrics: their send and SES-error counts
 * reach the server's /metrics through Redis (src/metrics/fleet-counters.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Metrics } from '../../src/metrics/registry.js';
import { FleetCounters } from '../../src/metrics/fleet-counters.js';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { createHarness, type Harness } from '../support/send-harness.js';

const series = (text: string, name: string) =>
  Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l.startsWith(`${name}{`))
      .map((l) => [l.slice(l.indexOf('"') + 1, l.lastIndexOf('"')), Number(l.split(' ').at(-1))]),
  );

describe('fleet metrics', () => {
  let h: Harness | undefined;
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    await h?.close();
    h = undefined;
    for (const c of cleanups.splice(0)) await c();
  });

  it("one process's /metrics shows another's sends and SES errors, with fixed labels", async () => {
    const prefix = uniquePrefix('fleet');
    const redisA = new Redis(TEST_REDIS_URL);
    const redisB = new Redis(TEST_REDIS_URL);
    const worker = new Metrics();
    const server = new Metrics();
    const fleetA = new FleetCounters(redisA, prefix, 60_000);
    const fleetB = new FleetCounters(redisB, prefix, 60_000);
    cleanups.push(() => fleetA.close(), () => fleetB.close(), () => redisA.disconnect(), () => redisB.disconnect(), () => deletePrefix(prefix));
    worker.attachFleet(fleetA);
    server.attachFleet(fleetB);

    for (let i = 0; i < 5; i++) worker.recordSend('sent');
    worker.recordSend('some-new-outcome');
    worker.recordSesError('Throttling');
    worker.recordSesError('Weird<script>');
    server.recordSend('sent'); // the server's own (a test copy), not flushed yet: still counted
    // Not flushed: the server sees only its own.
    expect(series(await server.registry.metrics(), 'newsletter_sends_total').sent).toBe(1);
    await fleetA.flush();
    const text = await server.registry.metrics();
    const sends = series(text, 'newsletter_sends_total');
    expect(sends).toMatchObject({ sent: 6, other: 1, failed: 0 });
    expect(Object.keys(sends)).toHaveLength(10);
    expect(series(text, 'newsletter_ses_errors_total')).toMatchObject({ Throttling: 1, other: 1, MessageRejected: 0 });
    expect(text).not.toContain('Weird');
    expect(text).not.toContain('some-new-outcome');
  });

  it('a worker process’s sends show in the /metrics of a process that never sent', async () => {
    h = await createHarness({ subscribers: 40, sendRate: 500 });
    const id = await h.startCampaign();
    const child = await h.spawnWorker();
    await h.waitForStatus(id, 'sent', 30_000);
    const exit = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM'); // flushes what is left
    await exit;
    const redis = new Redis(TEST_REDIS_URL);
    const fleet = new FleetCounters(redis, h.prefix);
    const server = new Metrics();
    server.attachFleet(fleet);
    cleanups.push(() => fleet.close(), () => redis.disconnect());
    expect(series(await server.registry.metrics(), 'newsletter_sends_total')).toMatchObject({ sent: 40, failed: 0 });
  }, 60_000);
  it('Redis unreachable: close() gives up after its timeout and a scrape keeps its last values', async () => {
    // A connection like the workers' (commands wait for Redis rather than fail) to a port nobody listens on.
    const redis = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: null, retryStrategy: () => 200, lazyConnect: false });
    redis.on('error', () => undefined);
    const fleet = new FleetCounters(redis, uniquePrefix('fleet-down'), 60_000);
    const m = new Metrics();
    m.attachFleet(fleet);
    m.recordSend('sent');
    const text = await m.registry.metrics(); // the fleet read times out after 1 s: local values stay
    expect(series(text, 'newsletter_sends_total').sent).toBe(1);
    await fleet.close(300); // a close() that waited for Redis would never return: the test's timeout fails it
    redis.disconnect();
  }, 60_000);
});
