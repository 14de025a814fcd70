/**
 * `npm run -s demo` end to end in a child process: it must finish, exit 0 and print the
 * delivered / bounced / complained counts the simulator addresses in
 * examples/demo-subscribers.csv produce (counted here from the CSV independently).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, redisAnswers, startRedisServer, which } from '../../src/demo/local-services.js';
import { TEST_REDIS_URL } from '../support/redis.js';

const ROOT = join(import.meta.dirname, '../..');

function expectedFromCsv(): { delivered: number; bounced: number; complained: number } {
  const emails = readFileSync(join(ROOT, 'examples/demo-subscribers.csv'), 'utf8').split('\n').slice(1).map((l) => l.split(',')[0]!).filter(Boolean);
  const local = (e: string) => e.split('@')[0]!.split('+')[0];
  expect(emails.every((e) => e.endsWith('@simulator.amazonses.com'))).toBe(true);
  return {
    delivered: emails.filter((e) => local(e) === 'success').length,
    bounced: emails.filter((e) => local(e) === 'bounce').length,
    complained: emails.filter((e) => local(e) === 'complaint').length,
  };
}

describe('npm run demo', () => {
  it('imports, sends, feeds SES events through the webhook and prints matching counts', async () => {
    const expected = expectedFromCsv();
    expect(expected.bounced).toBeGreaterThan(0);
    expect(expected.complained).toBeGreaterThan(0);
    const dir = mkdtempSync(join(tmpdir(), 'demo-test-'));
    const child = spawn('npm', ['run', '-s', 'demo', '--', '--data-dir', join(dir, 'not-yet-there'), '--rate', '100'], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: TEST_REDIS_URL, LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    rmSync(dir, { recursive: true, force: true });
    expect(code, `${out}\n${err}`).toBe(0);
    const counter = (name: string) => Number(new RegExp(`^\\s+${name}\\s+(\\d+)$`, 'm').exec(out)?.[1]);
    expect(counter('delivered')).toBe(expected.delivered);
    expect(counter('bounced')).toBe(expected.bounced);
    expect(counter('complained')).toBe(expected.complained);
    expect(counter('sent')).toBe(expected.delivered + expected.bounced + expected.complained);
    expect(out).toMatch(/status\s+sent/);
    expect(out).toMatch(/sent mail viewer: http:\/\/127\.0\.0\.1:\d+\//);
    expect(out).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\/admin\s+admin token: nlt_/);
    expect(out).toContain('→ match');
    // The demo runs on the Node that `npm run` puts first on PATH: the pinned one where installed.
    const runtime = /^\s+runtime\s+Node (v\d+\.\d+\.\d+)$/m.exec(out)?.[1];
    expect(runtime, out).toBe(process.version);
    expect(Number(runtime!.slice(1).split('.')[0])).toBeGreaterThanOrEqual(22);
  }, 150_000);

  it('without Redis and without redis-server on PATH: names docker compose and exits 2', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo'], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${port}`, PATH: '/nonexistent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(2);
    expect(err).toContain('docker compose up -d redis');
  }, 60_000);

  it('falls back to a throwaway redis-server from PATH', async () => {
    const binary = which('redis-server', process.env.PATH ?? '');
    if (!binary) {
      console.warn('[demo] redis-server not on PATH: fallback test skipped');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'demo-redis-'));
    const redis = await startRedisServer(binary, dir);
    try {
      expect(redis.url).not.toBe(TEST_REDIS_URL);
      expect(await redisAnswers(redis.url)).toBe(true);
    } finally {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(await redisAnswers(redis.url, 300)).toBe(false);
  });
});
