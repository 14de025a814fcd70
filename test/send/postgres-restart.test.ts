/**
 * Issue 17 (items 1 and 6) acceptance: a PostgreSQL restart (`pg_ctl restart -m fast`, every
 * connection terminated with 57P01) in the middle of a campaign. Everything runs as it does in
 * production, as child processes: `serve` (SNS webhook: the simulator's Send events), two
 * `worker`s and the SES simulator; the database is a private cluster (never the shared one).
 * Every process must survive and the campaign must complete by itself, each recipient mailed
 * exactly once, counted at the simulator.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/demo/local-services.js';
import { loadConfig } from '../../src/config.js';
import { openStore, type Store } from '../../src/store/db.js';
import { openSendContext, type SendContext } from '../../src/campaigns/send-context.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { startSimulatorProcess } from '../support/ses-simulator-process.js';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { ROOT, seedAudience, sleep, spawnTs, waitFor } from '../support/pipeline.js';
import { exampleCompiled } from '../support/send-harness.js';
import { Redis } from 'ioredis';
import { redisKeys } from '../../src/queue/redis-keys.js';
import { TEST_UNSUBSCRIBE_SECRET } from '../support/secrets.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:newsletter-ses-events';
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});

interface Proc {
  child: ChildProcess;
  name: string;
  log(): string;
}

/** Start a TypeScript entry and wait for its ready line; kill it at cleanup. */
async function startProcess(name: string, file: string, args: string[], env: Record<string, string>, ready: RegExp): Promise<Proc> {
  const child = spawnTs(join(ROOT, file), args, env);
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    const onData = () => ready.test(log) && resolve();
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited ${code} before ready:\n${log}`)));
  });
  return { child, name, log: () => log };
}

async function startCampaign(ctx: SendContext, listId: number): Promise<number> {
  const c = await ctx.orchestrator.create({
    listId,
    subject: 'Week 42',
    issueTitle: 'Week 42',
    issueSlug: 'week-42',
    issueDate: '2026-11-26',
    sourcePath: null,
    sourceMarkdown: '# Week 42',
    compiledJson: JSON.stringify(await exampleCompiled()),
    scheduledAt: null,
    status: 'draft',
  });
  await ctx.orchestrator.start(c.id);
  return c.id;
}

async function simulatorStats(url: string): Promise<{ accepted: number; recipients: number; duplicateRecipients: number; notificationsFailed: number }> {
  const res = await fetch(`${url}/_simulator/stats`);
  return (await res.json()) as never;
}

describe('PostgreSQL restarted mid-campaign', () => {
  it('serve and two workers survive `pg_ctl restart -m fast`; the campaign completes by itself, 0 missing and 0 duplicates', async () => {
    const N = 1500;
    const pgsrv: PrivatePostgres = await startPrivatePostgres();
    cleanups.push(() => pgsrv.destroy());
    const dbUrl = await pgsrv.createDatabase('newsletter');
    const store: Store = await openStore(dbUrl);
    cleanups.push(() => store.destroy());
    const listId = await seedAudience(store.db, N);
    const prefix = uniquePrefix('pgrestart');
    cleanups.push(() => deletePrefix(prefix, TEST_REDIS_URL));

    const dir = mkdtempSync(join(tmpdir(), 'nl-pgrestart-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const certs = join(dir, 'sns-certs.json');
    const servePort = await freePort();
    const sim = await startSimulatorProcess(['--rate', '1000', '--quota', '1000000', '--latency', '5', '--notify-url', `http://127.0.0.1:${servePort}/webhooks/ses`, '--topic-arn', TOPIC, '--certs-out', certs]);
    cleanups.push(() => sim.child.kill('SIGKILL'));

    const env: Record<string, string> = {
      DATABASE_URL: dbUrl,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      SES_ENDPOINT: sim.url,
      SEND_RATE: '100',
      FROM_ADDRESS: 'LWKD <news@example.com>',
      UNSUBSCRIBE_SECRET: TEST_UNSUBSCRIBE_SECRET,
      PUBLIC_URL: 'https://news.example.com',
      SNS_TOPIC_ARNS: TOPIC,
      SNS_CERTS: certs,
      // Longer than the outage: a row whose 'sent' write waits for the database is not resent meanwhile.
      UNCERTAIN_GRACE_S: '30',
      JOB_LOCK_S: '5',
      WORKER_CONCURRENCY: '10',
      LOG_LEVEL: 'warn',
    };
    const procs: Proc[] = [];
    procs.push(await startProcess('serve', 'src/cli/main.ts', ['serve', '--port', String(servePort), '--host', '127.0.0.1'], env, /listening on/));
    procs.push(await startProcess('worker 1', 'workers/index.ts', [], env, /worker ready/));
    procs.push(await startProcess('worker 2', 'workers/index.ts', [], env, /worker ready/));

    const ctx: SendContext = await openSendContext(loadConfig(env), { store });
    cleanups.push(() => ctx.close());
    const c = { id: await startCampaign(ctx, listId) };

    await waitFor('some sends', async () => (await simulatorStats(sim.url)).accepted >= 300, 60_000, 100);
    await pgsrv.restart();
    const afterRestart = (await simulatorStats(sim.url)).accepted;
    expect(afterRestart).toBeLessThan(N); // the restart happened mid-campaign

    await waitFor(
      `campaign ${c.id} sent`,
      async () => {
        for (const p of procs) if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`${p.name} died (${p.child.exitCode ?? p.child.signalCode}):\n${p.log()}`);
        return (await ctx.campaigns.status(c.id).catch(() => undefined))?.status === 'sent';
      },
      120_000,
      250,
    );
    // Every process is still up.
    expect(procs.filter((p) => p.child.exitCode !== null || p.child.signalCode !== null).map((p) => p.name)).toEqual([]);
    await sleep(500);
    const stats = await simulatorStats(sim.url);
    expect({ accepted: stats.accepted, duplicates: stats.duplicateRecipients }).toEqual({ accepted: N, duplicates: 0 });
    const counts = await ctx.orchestrator.stats(c.id);
    expect(counts).toMatchObject({ total: N, sent: N, failed: 0, queued: 0 });
    // serve answers again, and reports the database up.
    const ready = await fetch(`http://127.0.0.1:${servePort}/readyz`);
    expect(await ready.json()).toEqual({ ok: true, database: 'up', redis: 'up' });
  }, 240_000);

  it('a worker stopped (SIGTERM) while the database is down keeps its accepted sends in Redis; the next worker writes them: exactly once', async () => {
    const N = 600;
    const pgsrv = await startPrivatePostgres();
    cleanups.push(() => pgsrv.destroy());
    const dbUrl = await pgsrv.createDatabase('newsletter');
    const store = await openStore(dbUrl);
    cleanups.push(() => store.destroy());
    const listId = await seedAudience(store.db, N);
    const prefix = uniquePrefix('pgdown');
    cleanups.push(() => deletePrefix(prefix, TEST_REDIS_URL));
    // No Send events: the spill is the only record of the sends accepted during the outage.
    // SES answers after 300 ms, so the database goes down while sends are in flight even on a
    // busy machine where the worker starts none for a while (with 40 ms, a full suite's load
    // once left none in flight at the outage, and nothing to spill).
    const sim = await startSimulatorProcess(['--rate', '1000', '--quota', '1000000', '--latency', '300', '--no-send-events']);
    cleanups.push(() => sim.child.kill('SIGKILL'));
    const env: Record<string, string> = {
      DATABASE_URL: dbUrl,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      SES_ENDPOINT: sim.url,
      SEND_RATE: '100',
      FROM_ADDRESS: 'LWKD <news@example.com>',
      UNSUBSCRIBE_SECRET: TEST_UNSUBSCRIBE_SECRET,
      PUBLIC_URL: 'https://news.example.com',
      // Far beyond this test: a row left 'sending' is never resent by the grace period here.
      UNCERTAIN_GRACE_S: '600',
      JOB_LOCK_S: '5',
      WORKER_CONCURRENCY: '10',
      LOG_LEVEL: 'warn',
    };
    const first = await startProcess('worker 1', 'workers/index.ts', [], env, /worker ready/);
    const ctx = await openSendContext(loadConfig(env), { store });
    cleanups.push(() => ctx.close());
    const id = await startCampaign(ctx, listId);
    await waitFor('some sends', async () => (await simulatorStats(sim.url)).accepted >= 150, 60_000, 50);

    await pgsrv.stop();
    const exit = new Promise<number | null>((r) => first.child.once('exit', (code) => r(code)));
    first.child.kill('SIGTERM');
    expect(await exit).toBe(0);
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const spilled = await redis.llen(redisKeys(prefix).sentSpill());
    redis.disconnect();
    expect(spilled).toBeGreaterThan(0);

    await pgsrv.start();
    await startProcess('worker 2', 'workers/index.ts', [], env, /worker ready/);
    await waitFor(`campaign ${id} sent`, async () => (await ctx.campaigns.status(id).catch(() => undefined))?.status === 'sent', 90_000, 250);
    const stats = await simulatorStats(sim.url);
    expect({ accepted: stats.accepted, duplicates: stats.duplicateRecipients }).toEqual({ accepted: N, duplicates: 0 });
  }, 240_000);
});
