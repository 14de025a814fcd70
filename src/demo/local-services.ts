/**
 * The services the demo needs, found or started locally: Redis (REDIS_URL if it answers,
 * else a throwaway `redis-server` from PATH in a temp dir) and aws-ses-v2-local
 * in-process (its web viewer shows every message sent).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import type { Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { delimiter, join } from 'node:path';
import { Redis } from 'ioredis';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** True when a Redis at `url` answers PING within `timeoutMs`. Never throws. */
export async function redisAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs, enableOfflineQueue: false });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const pong = await Promise.race([redis.ping(), new Promise<string>((r) => setTimeout(() => r('timeout'), timeoutMs))]);
    return pong === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** Absolute path of an executable on PATH, or null. */
export function which(command: string, path: string): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export interface StartedRedis {
  url: string;
  stop(): Promise<void>;
}

/** Start `redis-server` on a free port, persisting nothing, in `dir`. */
export async function startRedisServer(binary: string, dir: string): Promise<StartedRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 5000;
  while (!(await redisAnswers(url, 300))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not start on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface StartedSes {
  endpoint: string;
  viewerUrl: string;
  stop(): Promise<void>;
}

export async function startLocalSes(): Promise<StartedSes> {
  const port = await freePort();
  // CommonJS with __esModule: depending on the loader, the server function is `default`
  // or `default.default`.
  type Start = (config: { host: string; port: number }) => Promise<Server>;
  // A dev dependency (the demo's only): loaded here, so a production install without dev
  // dependencies still runs every other command.
  const sesLocalModule: unknown = await import('aws-ses-v2-local');
  const d = (sesLocalModule as unknown as { default: Start | { default: Start } }).default;
  const start = typeof d === 'function' ? d : d.default;
  const server = await start({ host: '127.0.0.1', port });
  // Node's 5 s keep-alive default races the SDK's socket reuse after a pause (ECONNRESET,
  // which the pipeline must then treat as "maybe sent"); keep idle sockets longer.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    viewerUrl: `${endpoint}/`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
