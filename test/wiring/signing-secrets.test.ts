/**
 * `serve` and `worker` as real processes refuse to start without a strong UNSUBSCRIBE_SECRET
 * (issue #12): no secret, a one-character one (also with NODE_ENV=production), the
 * placeholder docker-compose used to ship. Exit 2 with one line naming the variable and how
 * to make one; nothing listens, no "worker ready".
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/pipeline.js';
import { TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';

const dir = mkdtempSync(join(tmpdir(), 'signing-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], secrets: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: uniquePrefix('secrets'), FROM_ADDRESS: 'a@example.com', LOG_LEVEL: 'warn', ...secrets };
  for (const k of ['UNSUBSCRIBE_SECRET', 'UNSUBSCRIBE_SECRET_OLD', 'SIGNUP_SECRET']) if (!(k in secrets)) delete env[k];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => child.on('exit', (code) => (clearTimeout(timer), resolve({ code, stdout, stderr }))));
}

describe('serve and worker refuse a missing or weak UNSUBSCRIBE_SECRET', () => {
  it.each([
    ['serve', ['serve', '--port', '0', '--host', '127.0.0.1']],
    ['worker', ['worker']],
  ])('%s', async (_name, args) => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{}, /needs UNSUBSCRIBE_SECRET/],
      [{ UNSUBSCRIBE_SECRET: 'a', NODE_ENV: 'production' }, /UNSUBSCRIBE_SECRET .*not random/],
      [{ UNSUBSCRIBE_SECRET: 'change-me-to-a-long-random-string' }, /UNSUBSCRIBE_SECRET looks like a placeholder/],
    ];
    for (const [secrets, message] of cases) {
      const r = await run(args, secrets);
      expect({ code: r.code, stdout: r.stdout }, JSON.stringify(secrets)).toEqual({ code: 2, stdout: '' });
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain('openssl rand -base64 32');
    }
  }, 120_000);
});
