/** Shared helpers for the send pipeline tests and benches: TypeScript child processes, seeding an audience. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/schema.js';

export const ROOT = join(import.meta.dirname, '../..');
/**
 * Run TypeScript children as `node --import tsx FILE`, not through the tsx CLI: the CLI is
 * a wrapper process, and a kill -9 aimed at it would orphan the real worker.
 */
const NODE_TSX = ['--import', 'tsx'];

/** Run a TypeScript file in a child process; resolves with stdout on exit 0. */
export function runTs(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_TSX, file, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${file} exited ${code}: ${err}`))));
  });
}

export function spawnTs(file: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [...NODE_TSX, file, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** A list with `n` active subscribers (ids ascending); returns the list id. */
export async function seedAudience(db: Kysely<Database>, n: number, opts: { listName?: string; emailPrefix?: string; createdAt?: number } = {}): Promise<number> {
  const now = opts.createdAt ?? Date.now() - 1000;
  const list = await db.insertInto('lists').values({ name: opts.listName ?? 'default', created_at: now }).returning('id').executeTakeFirstOrThrow();
  const prefix = opts.emailPrefix ?? 'reader';
  for (let i = 0; i < n; i += 500) {
    const rows = Array.from({ length: Math.min(500, n - i) }, (_, k) => ({
      email: `${prefix}${i + k + 1}@example.com`,
      name: `Reader ${i + k + 1}`,
      status: 'active' as const,
      attributes: '{}',
      status_reason: null,
      created_at: now,
      updated_at: now,
    }));
    const ids = await db.insertInto('subscribers').values(rows).returning('id').execute();
    await db
      .insertInto('list_members')
      .values(ids.map((r) => ({ list_id: list.id, subscriber_id: r.id, status: 'subscribed' as const, created_at: now, updated_at: now })))
      .execute();
  }
  return list.id;
}

export { sleep, waitFor } from './wait.js';

/** A child process's stdout and stderr as they arrive, and its exit code. */
export function collect(child: ChildProcess): { out: () => string; err: () => string; exit: Promise<number | null> } {
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { out: () => out, err: () => err, exit: new Promise((r) => child.on('exit', (code) => r(code))) };
}
