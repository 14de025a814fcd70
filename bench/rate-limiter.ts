/**
 * Rate accuracy of the global limiter alone (no SES, no queue): for each rate, callers
 * acquire permits in a loop for a few seconds, in one process and in three processes
 * sharing the limiter through Redis. Reports the achieved average rate and the worst
 * sliding one-second window of the grant times (wall clock, sub-ms).
 *
 *   npx tsx bench/rate-limiter.ts            # prints a Markdown table
 *
 * Env: REDIS_URL (default redis://127.0.0.1:6379). Uses a unique key prefix and
 * deletes it afterwards.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { RateLimiter } from '../src/queue/rate-limiter.js';
import { averageRate, worstSlidingWindow } from '../src/queue/sliding-window.js';
import { collectGrants } from '../test/support/grants.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CHILD = fileURLToPath(new URL('../test/rate-limiter/grant-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Run {
  rate: number;
  processes: number;
  callers: number;
  durationMs: number;
  grants: number[];
  staleSlots: number;
  lateGrants: number;
  pushedBack: number;
}

/** RL_MARGIN_MS / RL_STALE_MS override the limiter's defaults (in-process runs only). */
function marginOption(): { marginMs?: number; staleMs?: number } {
  const m = process.env.RL_MARGIN_MS;
  const st = process.env.RL_STALE_MS;
  return { ...(m ? { marginMs: Number(m) } : {}), ...(st ? { staleMs: Number(st) } : {}) };
}

function prefix(): string {
  return `nlbench-ratelimit-${randomBytes(4).toString('hex')}`;
}

async function cleanup(redis: Redis, p: string): Promise<void> {
  const keys = await redis.keys(`${p}:*`); // a handful of keys under a fresh prefix
  if (keys.length > 0) await redis.del(...keys);
}

async function inProcess(redis: Redis, rate: number, callers: number, durationMs: number): Promise<Run> {
  const p = prefix();
  const limiter = new RateLimiter({ redis, prefix: p, ratePerSecond: rate, ...marginOption() });
  const grants = await collectGrants(limiter, callers, durationMs);
  await cleanup(redis, p);
  return { rate, processes: 1, callers, durationMs, grants, staleSlots: limiter.counters.staleSlots, lateGrants: limiter.counters.lateGrants, pushedBack: limiter.counters.pushedBack };
}

async function multiProcess(redis: Redis, rate: number, callersEach: number, durationMs: number): Promise<Run> {
  const p = prefix();
  const env = {
    ...process.env,
    RL_REDIS_URL: REDIS_URL,
    RL_PREFIX: p,
    RL_RATE: String(rate),
    RL_CONCURRENCY: String(callersEach),
    RL_DURATION_MS: String(durationMs),
  };
  const children = Array.from({ length: 3 }, () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: proc.stdout });
    let onReady: () => void = () => {};
    const ready = new Promise<void>((r) => (onReady = r));
    const result = new Promise<{ grants: number[]; counters: { staleSlots: number; lateGrants: number; pushedBack: number } }>((resolve, reject) => {
      lines.on('line', (line) => {
        if (line === 'ready') onReady();
        else if (line.startsWith('{')) resolve(JSON.parse(line) as { grants: number[]; counters: { staleSlots: number; lateGrants: number; pushedBack: number } });
      });
      proc.on('exit', (code) => reject(new Error(`child exited with ${code}`)));
    });
    return { proc, ready, result };
  });
  await Promise.all(children.map((c) => c.ready));
  for (const c of children) c.proc.stdin.write('go\n');
  const results = await Promise.all(children.map((c) => c.result));
  await cleanup(redis, p);
  return {
    rate,
    processes: 3,
    callers: callersEach * 3,
    durationMs,
    grants: results.flatMap((r) => r.grants),
    staleSlots: results.reduce((n, r) => n + r.counters.staleSlots, 0),
    lateGrants: results.reduce((n, r) => n + r.counters.lateGrants, 0),
    pushedBack: results.reduce((n, r) => n + r.counters.pushedBack, 0),
  };
}

function row(r: Run): string {
  const avg = averageRate(r.grants);
  const worst = worstSlidingWindow(r.grants);
  return `| ${r.rate} | ${r.processes} | ${r.callers} | ${(r.durationMs / 1000).toFixed(0)} s | ${r.grants.length} | ${avg.toFixed(1)} (${((avg / r.rate) * 100).toFixed(1)}%) | ${worst} | ${worst <= Math.floor(r.rate) ? 'yes' : '**NO**'} | ${r.staleSlots} | ${r.pushedBack} | ${r.lateGrants} |`;
}

const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const plan: [number, number, number][] = [
  [14, 8, 6000],
  [100, 20, 4000],
  [500, 50, 4000],
  [2000, 200, 4000],
];
console.log('| rate/s | processes | callers | duration | grants | average/s (% of rate) | worst sliding 1 s | worst <= rate | discarded late slots | late grants pushing the schedule back | late grants over budget |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const [rate, callers, ms] of plan) console.log(row(await inProcess(redis, rate, callers, ms)));
if (process.env.RL_SKIP_MULTI !== '1') for (const [rate, callers, ms] of plan.slice(1)) console.log(row(await multiProcess(redis, rate, Math.ceil(callers / 3), ms)));
redis.disconnect();
