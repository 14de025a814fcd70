/**
 * The send rate as production wires it: startWorkerRuntime with its default deps (the
 * composition root's limiter, at the rate src/ses/send-rate.ts resolves), against the SES
 * simulator. The rate is read back from the fleet's limiter state in Redis and from the
 * worker's log line, not from the function under test.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { RateLimiter } from '../../src/queue/rate-limiter.js';
import { startWorkerRuntime, type WorkerRuntime } from '../../workers/runtime.js';
import { createHarness, type Harness } from '../support/send-harness.js';

function captureLog() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, sendRateLine: () => lines.find((l) => l.msg === 'send rate') };
}

/** The rate the fleet's shared limiter spaces permits for, as stored in Redis. */
async function fleetRate(h: Harness): Promise<number> {
  const redis = new Redis(h.config.REDIS_URL, { maxRetriesPerRequest: null });
  try {
    return await new RateLimiter({ redis, prefix: h.prefix, ratePerSecond: 1, assertRate: false }).effectiveRate();
  } finally {
    redis.disconnect();
  }
}

describe("the worker's send rate in production wiring", () => {
  let h: Harness | undefined;
  let rt: WorkerRuntime | undefined;
  afterEach(async () => {
    await rt?.close();
    await h?.close();
    rt = h = undefined;
  });

  const envWithout = (env: Record<string, string>, key: string) => Object.fromEntries(Object.entries(env).filter(([k]) => k !== key));

  it("no SEND_RATE: the limiter runs at the account's MaxSendRate, and the worker logs that it came from SES", async () => {
    h = await createHarness({ subscribers: 3, sendRate: 1, sim: { maxSendRate: 37 } });
    const log = captureLog();
    rt = await startWorkerRuntime({ config: loadConfig(envWithout(h.env, 'SEND_RATE')), logger: log.logger });
    expect(rt.sendRate).toEqual({ rate: 37, source: 'ses' });
    expect(log.sendRateLine()).toMatchObject({ rate: 37, source: 'ses' });

    const id = await h.startCampaign();
    await h.waitForStatus(id, 'sent', 20_000);
    expect(h.counts().size).toBe(3);
    expect(await fleetRate(h)).toBe(37);
  });

  it('SEND_RATE set: it wins over MaxSendRate', async () => {
    h = await createHarness({ subscribers: 2, sendRate: 25, sim: { maxSendRate: 37 } });
    const log = captureLog();
    rt = await startWorkerRuntime({ config: h.config, logger: log.logger });
    expect(rt.sendRate).toEqual({ rate: 25, source: 'config' });
    expect(log.sendRateLine()).toMatchObject({ rate: 25, source: 'config' });
    const id = await h.startCampaign();
    await h.waitForStatus(id, 'sent', 20_000);
    expect(await fleetRate(h)).toBe(25);
  });

  it('SES does not answer GetSendQuota: 14/s, logged with the reason', async () => {
    h = await createHarness({ subscribers: 1, sendRate: 1, sim: { maxSendRate: 37 } });
    h.sim.setLatency(2_500); // past GetSendQuota's 2 s timeout
    const log = captureLog();
    rt = await startWorkerRuntime({ config: loadConfig(envWithout(h.env, 'SEND_RATE')), logger: log.logger });
    expect(rt.sendRate).toMatchObject({ rate: 14, source: 'default' });
    expect(log.sendRateLine()).toMatchObject({ rate: 14, source: 'default', reason: expect.stringContaining('GetSendQuota') });
  });
});
