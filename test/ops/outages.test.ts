/**
 * Issue 17, item 6: what the server and the CLI say when the database (or Redis) is down,
 * against a private PostgreSQL cluster and a private redis-server that the tests stop and
 * start (never the shared ones).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { openAppContext, type AppContext } from '../../src/app-context.js';
import { loadConfig } from '../../src/config.js';
import { freePort } from '../../src/demo/local-services.js';
import { buildServer } from '../../src/http/server.js';
import type { Logger } from '../../src/logger.js';
import { createSnsSigningIdentity, signedNotification, type SnsSigningIdentity } from '../../src/simulator/sns-signer.js';
import { openStore } from '../../src/store/db.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { spawnRedisServer, uniquePrefix } from '../support/redis.js';
import { ROOT, seedAudience, waitFor } from '../support/pipeline.js';
import { EXAMPLE_ISSUE, EXAMPLE_SITE_URL } from '../support/example-issue.js';
import { TEST_UNSUBSCRIBE_SECRET } from '../support/secrets.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:outages-test';

let pgsrv: PrivatePostgres;
let redis: ChildProcess;
let redisPort: number;
let dir: string;
let identity: SnsSigningIdentity;
let env: Record<string, string>;
let ctx: AppContext;
let app: FastifyInstance;
let base: string;
const logs: string[] = [];

async function startRedis(): Promise<void> {
  redis = await spawnRedisServer(redisPort, dir);
}
function stopRedis(): Promise<void> {
  return new Promise((resolve) => {
    if (redis.exitCode !== null || redis.signalCode !== null) return resolve();
    redis.once('exit', () => resolve());
    redis.kill('SIGKILL');
  });
}

function cli(args: string[], extraEnv: Record<string, string>, onStderr?: (text: string) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...env, ...extraEnv } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr);
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  pgsrv = await startPrivatePostgres();
  const dbUrl = await pgsrv.createDatabase('newsletter');
  dir = mkdtempSync(join(tmpdir(), 'nl-outages-'));
  redisPort = await freePort();
  await startRedis();
  identity = await createSnsSigningIdentity();
  const certs = join(dir, 'sns-certs.json');
  writeFileSync(certs, JSON.stringify({ [identity.certUrl]: identity.certPem }));
  env = {
    DATABASE_URL: dbUrl,
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    QUEUE_PREFIX: uniquePrefix('outages'),
    SES_ENDPOINT: 'http://127.0.0.1:9',
    SEND_RATE: '10',
    FROM_ADDRESS: 'Outages <news@example.com>',
    UNSUBSCRIBE_SECRET: TEST_UNSUBSCRIBE_SECRET,
    PUBLIC_URL: 'https://news.example.com',
    SITE_URL: EXAMPLE_SITE_URL,
    SNS_TOPIC_ARNS: TOPIC,
    SNS_CERTS: certs,
    LOG_LEVEL: 'warn',
  };
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  ctx = await openAppContext(loadConfig(env), { logger: pino({ level: 'info' }, sink) as unknown as Logger, redisTimeoutMs: 2000 });
  app = await buildServer(ctx.serverDeps());
  base = (await app.listen({ port: 0, host: '127.0.0.1' })).replace('[::1]', '127.0.0.1');
}, 120_000);

afterAll(async () => {
  await app?.close().catch(() => undefined);
  await ctx?.close().catch(() => undefined);
  if (redis) await stopRedis();
  await pgsrv?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function readyz(): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: await res.json() };
}

describe('outages', () => {
  it('/readyz reports the database and Redis: 503 naming what is down, 200 again once it is back; /healthz stays liveness', async () => {
    expect(await readyz()).toEqual({ status: 200, body: { ok: true, database: 'up', redis: 'up' } });

    await pgsrv.stop();
    expect(await readyz()).toEqual({ status: 503, body: { ok: false, database: 'down', redis: 'up' } });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await pgsrv.start();
    await waitFor('database ready again', async () => (await readyz()).status === 200, 30_000, 200);

    await stopRedis();
    expect(await readyz()).toEqual({ status: 503, body: { ok: false, database: 'up', redis: 'down' } });
    await startRedis();
    await waitFor('redis ready again', async () => (await readyz()).status === 200, 30_000, 200);
  });

  it('a notification the database cannot take is answered 503 with no internals in the body; the detail is logged', async () => {
    await pgsrv.stop();
    try {
      const envelope = signedNotification(
        { eventType: 'Send', mail: { messageId: 'm-1', destination: ['a@example.com'], timestamp: new Date().toISOString(), tags: {} }, send: {} },
        identity,
        { topicArn: TOPIC },
      );
      logs.length = 0;
      const res = await fetch(`${base}/webhooks/ses`, { method: 'POST', headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: JSON.stringify(envelope) });
      const body = await res.text();
      expect(res.status).toBe(503);
      expect(JSON.parse(body)).toEqual({ error: 'unavailable' });
      expect(body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|postgres|\d{4,5}/i);
      expect(logs.join('')).toMatch(/ECONNREFUSED|connect/);
    } finally {
      await pgsrv.start();
    }
  });

  it('a missing SNS_CERTS file stops `serve` with one line naming the variable and the path', { timeout: 60_000 }, async () => {
    const missing = join(dir, 'no-such-certs.json');
    const res = await cli(['serve', '--port', '0'], { SNS_CERTS: missing });
    expect(res.code).toBe(2);
    expect(res.stderr.trim()).toBe(`newsletter: SNS_CERTS: cannot read ${missing} (no such file); point SNS_CERTS at a JSON file {certUrl: pem}, or unset it`);
  });

  it('`send --wait` that loses the database prints one clear line (no stack) and exits 1', { timeout: 90_000 }, async () => {
    const store = await openStore(env.DATABASE_URL!);
    await seedAudience(store.db, 3);
    await store.destroy();
    let stopping: Promise<void> | undefined;
    // No worker runs: the campaign stays 'sending' and the CLI keeps waiting until the database goes away.
    const res = await cli(['send', EXAMPLE_ISSUE, '--list', 'default', '--wait'], {}, (stderr) => {
      if (!stopping && /campaign \d+ sending/.test(stderr)) stopping = pgsrv.stop();
    });
    await stopping;
    await pgsrv.start();
    expect(res.code, res.stderr).toBe(1);
    const lines = res.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^newsletter: lost the database while waiting for campaign \d+ \(.+\); the workers go on sending it: follow it with `newsletter campaigns stats \d+`$/);
    expect(res.stderr).not.toMatch(/^\s+at /m);
    // The pool's own report of the lost connections goes to the (silent) command log, not after the line.
    expect(res.stderr).not.toMatch(/Warning: postgres connection lost/);
  });
});
