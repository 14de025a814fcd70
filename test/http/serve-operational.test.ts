/**
 * Issue #12 through the real CLI processes: `tokens create --expires 90d`, HOST's default,
 * and `serve` with METRICS_PORT (+ METRICS_TOKEN): /metrics answers on its own port, behind
 * its token, and not on the main one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { TEST_UNSUBSCRIBE_SECRET } from '../support/secrets.js';
import { collect } from '../support/pipeline.js';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'serve-ops-'));
const prefix = uniquePrefix('serveops');
const METRICS_TOKEN = 'scrape-me-please-0123456789abcdef';
const env = {
  ...process.env,
  DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
  REDIS_URL: TEST_REDIS_URL,
  QUEUE_PREFIX: prefix,
  LOG_LEVEL: 'warn',
  UNSUBSCRIBE_SECRET: TEST_UNSUBSCRIBE_SECRET,
};

function cli(args: string[], extra: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
}

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await deletePrefix(prefix);
});

describe('HOST', () => {
  it('defaults to loopback (containers set HOST=0.0.0.0)', () => {
    expect(loadConfig({}).HOST).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0');
  });
});

describe('tokens create --expires', () => {
  it('creates a token that expires after the given duration, and refuses a bad duration naming the flag', async () => {
    const before = Date.now();
    const created = collect(cli(['tokens', 'create', '--role', 'editor', '--name', 'quarterly', '--expires', '90d', '--json']));
    expect(await created.exit, created.err()).toBe(0);
    const json = JSON.parse(created.out()) as { id: number; token: string; expires_at: string };
    const expires = Date.parse(json.expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + 90 * 86400_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 90 * 86400_000);

    const listed = collect(cli(['tokens', 'list', '--json']));
    expect(await listed.exit).toBe(0);
    expect((JSON.parse(listed.out()) as Array<{ id: number; expires_at: string | null }>).find((t) => t.id === json.id)?.expires_at).toBe(json.expires_at);

    const bad = collect(cli(['tokens', 'create', '--role', 'editor', '--expires', '90']));
    expect(await bad.exit).not.toBe(0);
    expect(bad.err()).toMatch(/--expires must be a number and a unit/);
  }, 60_000);
});

describe('serve with METRICS_PORT', () => {
  it('serves /metrics on its own port behind METRICS_TOKEN, not on the main port', async () => {
    const server = cli(['serve', '--port', '0'], { METRICS_PORT: '0', METRICS_TOKEN });
    const io = collect(server);
    const line = /listening on (http:\/\/[\d.:]+) .*metrics (http:\/\/[\d.:]+)\/metrics/;
    const deadline = Date.now() + 30_000;
    while (!line.test(io.out())) {
      if (Date.now() > deadline || server.exitCode !== null) throw new Error(`serve did not start: ${io.err()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const [, main, metrics] = line.exec(io.out())!;
    expect(metrics).not.toBe(main);
    try {
      expect((await fetch(`${main}/healthz`)).status).toBe(200);
      expect((await fetch(`${main}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(404);
      expect((await fetch(`${metrics}/metrics`)).status).toBe(401);
      const ok = await fetch(`${metrics}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toMatch(/newsletter_http_requests_total/);
      // Nothing else answers on the metrics port.
      expect((await fetch(`${metrics}/api/campaigns`)).status).toBe(404);
      expect((await fetch(`${metrics}/admin`)).status).toBe(404);
    } finally {
      server.kill('SIGTERM');
    }
    expect(await io.exit).toBe(0);
  }, 60_000);
});
