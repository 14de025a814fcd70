/**
 * Three worker processes share one limiter through Redis: the union of their grants
 * keeps the global rate in every sliding second. With a per-process limiter the
 * union would run at three times the rate. Each process runs until a count of permits,
 * so the test holds however slow the machine is; the achieved average is measured by
 * bench/rate-limiter.ts.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { worstSlidingWindow } from '../../src/queue/sliding-window.js';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';

const CHILD = fileURLToPath(new URL('./grant-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface ChildResult {
  pid: number;
  grants: number[];
  counters: { granted: number; staleSlots: number };
}

interface Child {
  proc: ChildProcessWithoutNullStreams;
  ready: Promise<void>;
  result: Promise<ChildResult>;
}

function startChild(env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: proc.stdout });
  let onReady: () => void = () => {};
  const ready = new Promise<void>((r) => (onReady = r));
  const result = new Promise<ChildResult>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line === 'ready') onReady();
      else if (line.startsWith('{')) resolve(JSON.parse(line) as ChildResult);
    });
    proc.on('exit', (code) => reject(new Error(`child exited with ${code} before reporting: ${stderr}`)));
  });
  return { proc, ready, result };
}

const children: Child[] = [];
const prefixes: string[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
  for (const p of prefixes.splice(0)) await deletePrefix(p);
});

describe('RateLimiter across processes', () => {
  it('three processes at 100/s together stay within 100 per sliding second, each granting while the others do', async () => {
    const prefix = uniquePrefix('ratelimit-mp');
    prefixes.push(prefix);
    const EACH = 100;
    const env = {
      RL_REDIS_URL: TEST_REDIS_URL,
      RL_PREFIX: prefix,
      RL_RATE: '100',
      RL_CONCURRENCY: '10',
      RL_COUNT: String(EACH),
      // Only a bound: a process without its count by then has a limiter that stalls.
      RL_DURATION_MS: '60000',
    };
    for (let i = 0; i < 3; i++) children.push(startChild(env));
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.proc.stdin.write('go\n');
    const results = await Promise.all(children.map((c) => c.result));

    for (const r of results) expect(r.grants, `process ${r.pid}: permits granted`).toHaveLength(EACH);
    const all = results.flatMap((r) => r.grants);
    expect(worstSlidingWindow(all)).toBeLessThanOrEqual(100);
    // Each process really granted concurrently with the others, not one after another:
    // every one started before any finished (per-process limiters would then give 300/s).
    const firsts = results.map((r) => Math.min(...r.grants));
    const lasts = results.map((r) => Math.max(...r.grants));
    expect(Math.max(...firsts)).toBeLessThan(Math.min(...lasts));
  });
});
