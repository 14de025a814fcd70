/**
 * The composition root builds on first use, once, and closes what it opened: a command
 * that needs only the store never connects to Redis; an unreachable Redis is a ConfigError
 * naming REDIS_URL. "Redis" here is a TCP listener that counts connections and never answers.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openCompositionRoot } from '../../src/composition-root.js';
import { ConfigError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { uniquePrefix } from '../support/redis.js';

describe('composition root', () => {
  let dir: string;
  let silentRedis: Server;
  let connections: number;
  const sockets = new Set<Socket>();

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nl-root-'));
    connections = 0;
    silentRedis = createServer((s) => {
      connections++;
      sockets.add(s);
      s.resume(); // read (and drop) what comes, so the client's FIN is seen
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => silentRedis.listen(0, '127.0.0.1', r));
  });
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silentRedis.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const config = () =>
    loadConfig({
      DATABASE_URL: `sqlite:${join(dir, 'root.db')}`,
      REDIS_URL: `redis://127.0.0.1:${(silentRedis.address() as { port: number }).port}`,
      QUEUE_PREFIX: uniquePrefix('root'),
      LOG_LEVEL: 'silent',
    });

  it('a store-only command opens the store once and never connects to Redis', async () => {
    const root = openCompositionRoot(config());
    const [a, b] = await Promise.all([root.store(), root.store()]);
    expect(a).toBe(b);
    expect(await root.campaigns()).toBe(await root.campaigns());
    expect((await (await root.apiTokens()).list()).length).toBe(0);
    await root.close();
    expect(connections).toBe(0);
    // Closed means closed: the store was destroyed, and nothing reopens.
    await expect(a.db.selectFrom('campaigns').select('id').execute()).rejects.toThrow();
    await expect(root.store()).rejects.toThrow(/closed/);
  });

  it('Redis that does not answer: a ConfigError naming REDIS_URL, and the connection is released', async () => {
    const root = openCompositionRoot(config(), { redisTimeoutMs: 300, logger: createLogger('silent') });
    const err = await root.redis().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('REDIS_URL');
    expect(connections).toBeGreaterThan(0);
    await root.close();
    // A password in REDIS_URL (docker-compose's has one) is not printed.
    const withPassword = { ...config(), REDIS_URL: config().REDIS_URL.replace('redis://', 'redis://:hunter2-secret@') };
    const root2 = openCompositionRoot(withPassword, { redisTimeoutMs: 300, logger: createLogger('silent') });
    const err2 = await root2.redis().catch((e: unknown) => e);
    expect((err2 as Error).message).toMatch(/Redis at redis:\/\/\*\*\*@127\.0\.0\.1:\d+ does not answer/);
    expect((err2 as Error).message).not.toContain('hunter2');
    await root2.close();
    const deadline = Date.now() + 2000;
    while (sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(sockets.size).toBe(0);
  });

  it('a store handed in (tests) is used as is and left open on close', async () => {
    const own = openCompositionRoot(config());
    const store = await own.store();
    const borrowing = openCompositionRoot(config(), { store });
    expect(await borrowing.store()).toBe(store);
    await borrowing.close();
    await expect(store.db.selectFrom('campaigns').select('id').execute()).resolves.toEqual([]);
    await own.close();
  });
});
