/**
 * `newsletter serve` as a real process: `tokens create` prints a working token once;
 * on SIGTERM the server refuses new connections, finishes the request in flight (its body
 * still arriving) and exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { TEST_UNSUBSCRIBE_SECRET } from '../support/secrets.js';
import { collect } from '../support/pipeline.js';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'serve-drain-'));
const prefix = uniquePrefix('serve');
const env = {
  ...process.env,
  DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
  REDIS_URL: TEST_REDIS_URL,
  QUEUE_PREFIX: prefix,
  LOG_LEVEL: 'warn',
  UNSUBSCRIBE_SECRET: TEST_UNSUBSCRIBE_SECRET,
};

function cli(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await deletePrefix(prefix);
});

describe('serve', () => {
  it('drains the in-flight request on SIGTERM and exits 0', async () => {
    const created = collect(cli(['tokens', 'create', '--role', 'editor', '--name', 'drain test']));
    expect(await created.exit).toBe(0);
    const token = created.out().trim();
    expect(token).toMatch(/^nlt_[A-Za-z0-9_-]{40,}$/);
    expect(created.err()).toMatch(/not shown again/);

    const server = cli(['serve', '--port', '0', '--host', '127.0.0.1']);
    const io = collect(server);
    const deadline = Date.now() + 30_000;
    while (!/listening on (http:\/\/[\d.:]+)/.test(io.out())) {
      if (Date.now() > deadline || server.exitCode !== null) throw new Error(`serve did not start: ${io.err()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = new URL(/listening on (http:\/\/[\d.:]+)/.exec(io.out())![1]!);

    // A request whose body is still arriving when SIGTERM comes.
    const body = JSON.stringify({ email: 'drained@example.com', name: 'Drained', list: 'default' });
    const socket: Socket = connect(Number(url.port), '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    let response = '';
    socket.on('data', (d: Buffer) => (response += d.toString()));
    socket.write(
      `POST /api/subscribers HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
    );
    socket.write(body.slice(0, 10));
    await new Promise((r) => setTimeout(r, 200));

    server.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    expect(server.exitCode).toBeNull(); // still draining

    // New connections are refused while draining.
    const refused = await new Promise<string>((resolve) => {
      const s = connect(Number(url.port), '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');

    socket.write(body.slice(10));
    const code = await io.exit;
    expect(response).toMatch(/^HTTP\/1\.1 201/);
    expect(response).toContain('drained@example.com');
    expect(code).toBe(0);
    expect(io.err()).not.toMatch(/"level":(50|60)/);

    const store = await openStore(env.DATABASE_URL);
    const row = await store.db.selectFrom('subscribers').select('email').where('email', '=', 'drained@example.com').executeTakeFirst();
    await store.destroy();
    expect(row?.email).toBe('drained@example.com');
  }, 60_000);
});
