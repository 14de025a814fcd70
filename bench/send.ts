/**
 * Send pipeline benchmark → bench/results/send.md
 *
 *   tsx bench/send.ts [--throughput N] [--rates 14,100,500] [--rate-workers W] [--warm S] [--memory N] [--seconds S]
 *   tsx bench/send.ts --compare-sdk [--throughput N] [--workers W] [--repeat K]
 *
 * --compare-sdk: in one invocation, the bare SES client (bench/sdk-client.ts: the real
 * @aws-sdk/client-ses, SendRawEmail of the same message, W processes × the same concurrency,
 * against the same in-process simulator) and then the pipeline (W workers, no rate limit),
 * K times alternating; prints the pipeline/bare-SDK rate `ratio` and worker CPU per message
 * against the bare client's, with the CPU model. Writes nothing unless --write.
 *
 * Against the strict SES simulator (in this process) and a private redis-server on a free
 * port (so Redis memory is ours alone), with worker processes as children:
 *  1. end-to-end throughput with no effective rate limit (two worker processes);
 *  2. rate accuracy at 14, 100 and 500/s: achieved average, worst sliding 1-s window, and
 *     how long after the trigger the first message was accepted (goal < 1 s). With --warm S the
 *     workers first send a campaign of S seconds at the same rate to another list, as a worker
 *     that has sent before (its code compiled) would; only the second campaign is measured;
 *  3. a 100,000-subscriber campaign: Redis peak memory and worker peak RSS.
 *
 * Workers run as deployed (docker-compose.yml): `newsletter worker` from the compiled build
 * (built first if dist/ is not current) with NODE_OPTIONS='--max-old-space-size=160 --max-semi-space-size=8', at the
 * default WORKER_CONCURRENCY (50), and MALLOC_ARENA_MAX=2 as docker-compose.yml (bench/worker-env.ts;
 * BENCH_WORKER_MALLOC_ARENA_MAX='' = glibc's default). BENCH_WORKER_NODE_OPTIONS='' measures V8's default heap
 * sizing; --concurrency N changes the concurrency; BENCH_PROF=dir writes CPU profiles (the bare
 * SDK clients of --compare-sdk into dir/sdk). Profiling aids: BENCH_REDIS_STATS=1 (Redis commands
 * per message), BENCH_TIMELINE=1 (acceptances per 100 ms, largest gaps), BENCH_RATE_CONCURRENCY=N
 * (the rate runs' worker concurrency instead of max(20, min(200, rate))).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startSesSimulator, type SesSimulator } from '../src/simulator/ses-simulator.js';
import { openStore, type Store } from '../src/store/db.js';
import { loadConfig } from '../src/config.js';
import { openSendContext, type SendContext } from '../src/campaigns/send-context.js';
import type { CompiledIssue } from '../src/render/types.js';
import { currentCompiled } from '../bin/compiled.js';
import { freePort } from '../src/demo/local-services.js';
import { spawnRedisServer } from '../test/support/redis.js';
import { TEST_UNSUBSCRIBE_SECRET } from '../test/support/secrets.js';
import { BENCH_ISSUE, BENCH_SENDER } from './bench-issue.js';
import { benchWorkerEnv } from './worker-env.js';

const ROOT = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const CONCURRENCY = Number(arg('concurrency', '50'));
const WORKER_DEPLOYED = benchWorkerEnv({});
const WORKER_NODE_OPTIONS = WORKER_DEPLOYED.NODE_OPTIONS ?? '';
const WORKER_ARENAS = WORKER_DEPLOYED.MALLOC_ARENA_MAX;
if (!currentCompiled('workers/index.js', ROOT)) execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });

const COMPILED: CompiledIssue = BENCH_ISSUE;

async function startRedis(dir: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  return { url: `redis://127.0.0.1:${port}`, child: await spawnRedisServer(port, dir) };
}

/** A list of `n` active subscribers, `<prefix>1@example.com`…; the measured one is 'default', a warm-up's is named by its prefix. */
async function seed(store: Store, n: number, prefix = 'reader'): Promise<number> {
  const now = Date.now() - 1000;
  const list = await store.db.insertInto('lists').values({ name: prefix === 'reader' ? 'default' : prefix, created_at: now }).returning('id').executeTakeFirstOrThrow();
  for (let i = 0; i < n; i += 1000) {
    const rows = Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({
      email: `${prefix}${i + k + 1}@example.com`, name: `Reader ${i + k + 1}`, status: 'active' as const,
      attributes: '{}', status_reason: null, created_at: now, updated_at: now,
    }));
    const ids = await store.db.insertInto('subscribers').values(rows).returning('id').execute();
    await store.db.insertInto('list_members')
      .values(ids.map((r) => ({ list_id: list.id, subscriber_id: r.id, status: 'subscribed' as const, created_at: now, updated_at: now })))
      .execute();
  }
  return list.id;
}

interface Run {
  sim: SesSimulator;
  elapsedMs: number;
  redisPeakBytes: number;
  workerPeakRssKb: number[];
  /** Peak RSS when the worker said ready (before any job): the baseline of code and libraries. */
  readyRssKb: number[];
  accepted: number;
  /** From the campaign's start (the trigger) to the simulator accepting its first message. */
  firstSendMs: number;
  /** From the trigger to this process's poll seeing 'sent' (elapsedMs is to the campaign's finished_at). */
  seenMs: number;
  /** From the trigger to the simulator accepting the last message. */
  lastSendMs: number;
  /** CPU seconds during the campaign: all workers, this process (simulator, polling), Redis. */
  cpu: { workers: number; bench: number; redis: number };
  /** The workers' rate-limiter tallies, summed (their shutdown log line, workers/runtime.ts). */
  limiter: Record<string, number>;
}

function vmHwmKb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

async function runCampaign(opts: { subscribers: number; sendRate: number; workers: number; concurrency: number; simRate?: number; warm?: number }): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'nl-bench-'));
  const redis = await startRedis(dir);
  const sim = await startSesSimulator({ maxSendRate: opts.simRate ?? 1_000_000, max24HourSend: 100_000_000, keepRaw: false, sendEvents: false });
  const url = `sqlite:${join(dir, 'bench.db')}`;
  const store = await openStore(url);
  const listId = await seed(store, opts.subscribers);
  const warmListId = opts.warm ? await seed(store, opts.warm, 'warmup') : undefined;
  const env: Record<string, string> = {
    DATABASE_URL: url, REDIS_URL: redis.url, QUEUE_PREFIX: 'bench', SES_ENDPOINT: sim.url, SEND_RATE: String(opts.sendRate),
    FROM_ADDRESS: BENCH_SENDER.from, UNSUBSCRIBE_SECRET: TEST_UNSUBSCRIBE_SECRET, PUBLIC_URL: BENCH_SENDER.publicUrl, LIST_NAME: BENCH_SENDER.listName,
    WORKER_CONCURRENCY: String(opts.concurrency), LOG_LEVEL: 'info',
    // No Send events in the bench: a send whose answer was lost (socket hang up) is resent after 5 s.
    UNCERTAIN_GRACE_S: process.env.BENCH_UNCERTAIN_GRACE_S ?? '5',
    // The simulator answers in milliseconds; the grace must be at least twice this (src/config.ts).
    // On a loaded machine (load average ≫ cores) answers can take longer: BENCH_SES_TIMEOUT_S=10 BENCH_UNCERTAIN_GRACE_S=20.
    SES_REQUEST_TIMEOUT_S: process.env.BENCH_SES_TIMEOUT_S ?? '2',
  };
  const ctx: SendContext = await openSendContext(loadConfig(env), { store });
  const children: ChildProcess[] = [];
  const limiter: Record<string, number> = {};
  for (let i = 0; i < opts.workers; i++) {
    const prof = process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROF] : [];
    // BENCH_WORKER_FLAGS: node flags NODE_OPTIONS refuses (--trace-gc…).
    prof.push(...(process.env.BENCH_WORKER_FLAGS ?? '').split(' ').filter(Boolean));
    // As docker-compose.yml runs it: `newsletter worker` (the compiled build) with its NODE_OPTIONS and MALLOC_ARENA_MAX.
    const child = spawn(process.execPath, [...prof, join(ROOT, 'bin/newsletter.js'), 'worker'], {
      cwd: ROOT,
      env: benchWorkerEnv({ ...process.env, ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // BENCH_WORKER_LOG=FILE appends the workers' stdout there (e.g. with BENCH_WORKER_FLAGS=--trace-gc).
    if (process.env.BENCH_WORKER_LOG) child.stdout!.on('data', (d: Buffer) => appendFileSync(process.env.BENCH_WORKER_LOG!, d));
    // Workers log at info (JSON on stderr): warnings and errors are passed on, and the rate
    // limiter's tally is read from the line a stopping worker logs (workers/runtime.ts).
    let tail = '';
    child.stderr!.on('data', (d: Buffer) => {
      const lines = (tail + d.toString()).split('\n');
      tail = lines.pop()!;
      for (const line of lines) {
        let entry: { level?: number; rateLimiter?: Record<string, number> };
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          process.stderr.write(`${line}\n`);
          continue;
        }
        if ((entry.level ?? 0) >= 40) process.stderr.write(`${line}\n`);
        for (const [k, v] of Object.entries(entry.rateLimiter ?? {})) limiter[k] = (limiter[k] ?? 0) + v;
      }
    });
    await new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('worker ready') && resolve()));
    children.push(child);
  }
  const readyRssKb = children.map((ch) => vmHwmKb(ch.pid!));
  const probe = new Redis(redis.url);
  const campaignOf = (list: number) =>
    ctx.orchestrator.create({
      listId: list, subject: 'Bench', issueTitle: 'Bench', issueSlug: 'bench', issueDate: null, sourcePath: null, sourceMarkdown: '',
      compiledJson: JSON.stringify(COMPILED), scheduledAt: null, status: 'draft',
    });
  if (warmListId !== undefined) {
    // --warm: one campaign first, on the same workers; the simulator's record starts afresh after it.
    const w = await campaignOf(warmListId);
    await ctx.orchestrator.start(w.id);
    while ((await ctx.campaigns.status(w.id))?.status !== 'sent') await new Promise((r) => setTimeout(r, 100));
    // The limiter's schedule runs idle before the measured campaign starts, as between two sends.
    await new Promise((r) => setTimeout(r, 1000));
    sim.reset();
  }
  const c = await campaignOf(listId);
  const peaks = children.map(() => 0);
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  const cpuS = (pid: number) => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  };
  const workerCpu0 = children.map((ch) => cpuS(ch.pid!));
  const redisCpu0 = cpuS(redis.child.pid!);
  const triggeredAt = Date.now();
  await ctx.orchestrator.start(c.id);
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    children.forEach((ch, i) => (peaks[i] = Math.max(peaks[i]!, vmHwmKb(ch.pid!))));
    if ((await ctx.campaigns.status(c.id))?.status === 'sent') break;
  }
  // To the moment the campaign became 'sent' (its finished_at, written by a worker on this
  // machine's clock), not to when this loop saw it: the poll adds up to 250 ms of its own.
  const seenMs = Date.now() - t0;
  const elapsedMs = Number((await ctx.campaigns.get(c.id))!.finished_at) - t0;
  const workerCpu = children.map((ch, i) => cpuS(ch.pid!) - workerCpu0[i]!);
  const ownCpu = process.cpuUsage(cpu0);
  const cpu = { workers: workerCpu.reduce((a, b) => a + b, 0), bench: (ownCpu.user + ownCpu.system) / 1e6, redis: cpuS(redis.child.pid!) - redisCpu0 };
  console.error(`rss: ready ${readyRssKb.map((k) => (k / 1024).toFixed(0)).join(', ')} MB, peak ${peaks.map((k) => (k / 1024).toFixed(0)).join(', ')} MB`);
  console.error(`cpu: workers ${workerCpu.map((x) => x.toFixed(1)).join(', ')} s; bench+simulator ${cpu.bench.toFixed(1)} s; redis ${cpu.redis.toFixed(1)} s`);
  if (process.env.BENCH_REDIS_STATS) {
    // BENCH_REDIS_STATS=1: Redis commands per accepted message (calls, server µs per call), for profiling.
    for (const line of (await probe.info('commandstats')).split('\n')) {
      const m = /^cmdstat_(\w+):calls=(\d+),usec=(\d+)/.exec(line);
      if (m && Number(m[2]) > 100) console.error(`redis: ${m[1]} ${(Number(m[2]) / Math.max(1, sim.messages.length)).toFixed(2)}/msg, ${(Number(m[3]) / Number(m[2])).toFixed(1)} µs/call`);
    }
  }
  const info = await probe.info('memory');
  const redisPeakBytes = Number(/used_memory_peak:(\d+)/.exec(info)?.[1] ?? 0);
  children.forEach((ch, i) => (peaks[i] = Math.max(peaks[i]!, vmHwmKb(ch.pid!))));
  for (const ch of children) {
    const exited = new Promise((r) => ch.once('exit', r));
    ch.kill('SIGTERM');
    await exited;
  }
  probe.disconnect();
  await ctx.close();
  await store.destroy();
  await sim.close();
  redis.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  const firstSendMs = sim.messages.length > 0 ? Math.min(...sim.messages.map((m) => m.at)) - triggeredAt : Number.NaN;
  const lastSendMs = sim.messages.length > 0 ? Math.max(...sim.messages.map((m) => m.at)) - triggeredAt : Number.NaN;
  return { sim, elapsedMs, redisPeakBytes, workerPeakRssKb: peaks, readyRssKb, accepted: sim.messages.length, firstSendMs, lastSendMs, seenMs, cpu, limiter };
}

function windowStats(sim: SesSimulator) {
  const t = sim.messages.map((m) => m.at);
  if (process.env.BENCH_TIMELINE && t.length > 1) {
    // BENCH_TIMELINE=1: acceptances per 100 ms from the first, and the largest gaps, on stderr.
    const bins: number[] = [];
    for (const x of t) bins[Math.floor((x - t[0]!) / 100)] = (bins[Math.floor((x - t[0]!) / 100)] ?? 0) + 1;
    console.error(`timeline (per 100 ms): ${Array.from(bins, (b) => b ?? 0).join(' ')}`);
    const gaps = t.slice(1).map((x, i) => [x - t[i]!, i + 1] as const).sort((a, b) => b[0] - a[0]).slice(0, 5);
    console.error(`largest gaps: ${gaps.map(([g, i]) => `${g.toFixed(0)} ms before #${i}`).join(', ')}`);
  }
  const avg = t.length > 1 ? ((t.length - 1) * 1000) / (t[t.length - 1]! - t[0]!) : 0;
  const at = (q: number) => (t.length ? t[Math.min(t.length - 1, Math.floor(q * t.length))]! - t[0]! : 0);
  return { avg, worst: sim.worstWindow(1000), duplicates: sim.duplicates().length, throttled: sim.throttleCount(), p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}

const lines: string[] = [];
const log = (s: string) => {
  console.log(s);
  lines.push(s);
};

const throughputN = Number(arg('throughput', '20000'));
const rates = arg('rates', '14,100,500').split(',').filter(Boolean).map(Number);
const memoryN = Number(arg('memory', '100000'));
const seconds = Number(arg('seconds', '10'));
const warmSeconds = Number(arg('warm', '0'));

log(`# Send pipeline benchmark`);
log('');
log(`Measured ${new Date().toISOString()} on ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}, SQLite store, private redis-server, SES simulator in the bench process, worker processes as children.`);
log(`Command: \`npx tsx bench/send.ts ${args.join(' ')}\`. Load average at start: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}.`);
log(`Workers: \`newsletter worker\` from the compiled build (dist/), NODE_OPTIONS=\`${WORKER_NODE_OPTIONS}\`, MALLOC_ARENA_MAX=${WORKER_ARENAS ?? 'unset'}, WORKER_CONCURRENCY ${CONCURRENCY} unless the row says otherwise.`);
log('');

/** CPU per message, by process: what limits throughput on a machine whose cores they share. */
function cpuLine(r: Run): string {
  const per = (s: number) => ((s * 1000) / Math.max(1, r.accepted)).toFixed(2);
  return `CPU per message: workers ${per(r.cpu.workers)} ms, SES simulator + bench ${per(r.cpu.bench)} ms, Redis ${per(r.cpu.redis)} ms.`;
}

/** The bare SDK client in `workers` child processes against a fresh in-process simulator (see bench/sdk-client.ts). */
async function runBareSdk(opts: { messages: number; workers: number; concurrency: number; v2?: boolean }) {
  const sim = await startSesSimulator({ maxSendRate: 1_000_000, max24HourSend: 100_000_000, keepRaw: false, sendEvents: false });
  const per = Math.ceil(opts.messages / opts.workers);
  const children = Array.from({ length: opts.workers }, (_, i) =>
    spawn(process.execPath, [...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir', join(process.env.BENCH_PROF, 'sdk')] : []), '--import', 'tsx', join(ROOT, 'bench/sdk-client.ts'), '--endpoint', sim.url, '--messages', String(per), '--concurrency', String(opts.concurrency), '--first', String(1 + i * per), ...(opts.v2 ? ['--v2'] : [])], {
      cwd: ROOT, env: benchWorkerEnv(process.env), stdio: ['pipe', 'pipe', 'inherit'],
    }));
  const outputs = children.map((ch) => {
    let out = '';
    ch.stdout!.setEncoding('utf8');
    ch.stdout!.on('data', (d: string) => (out += d));
    const ready = new Promise<void>((resolve, reject) => {
      ch.stdout!.on('data', () => out.includes('ready') && resolve());
      ch.once('exit', (code) => reject(new Error(`sdk-client exited ${code}: ${out}`)));
    });
    const done = new Promise<{ messages: number; ms: number; cpuMs: number; failed: number }>((resolve, reject) =>
      ch.once('exit', () => {
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve(JSON.parse(line));
        else reject(new Error(`sdk-client said: ${out}`));
      }));
    return { ready, done };
  });
  await Promise.all(outputs.map((o) => o.ready));
  const acceptedBefore = sim.messages.length;
  const bench0 = process.cpuUsage();
  for (const ch of children) ch.stdin!.write('go\n');
  const results = await Promise.all(outputs.map((o) => o.done));
  const bench = process.cpuUsage(bench0);
  const accepted = sim.messages.length - acceptedBefore;
  const duplicates = sim.duplicates().length;
  await sim.close();
  const messages = results.reduce((a, r) => a + r.messages, 0);
  const ms = Math.max(...results.map((r) => r.ms));
  return {
    rate: (messages * 1000) / ms,
    clientCpuMs: results.reduce((a, r) => a + r.cpuMs, 0) / messages,
    simCpuMs: (bench.user + bench.system) / 1000 / messages,
    failed: results.reduce((a, r) => a + r.failed, 0),
    accepted,
    duplicates,
  };
}

if (args.includes('--compare-sdk')) {
  const workers = Number(arg('workers', '2'));
  const repeat = Number(arg('repeat', '1'));
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? '?';
  log(`## Pipeline vs the bare SDK client (--compare-sdk)`);
  log('');
  log(`CPU: ${cpuModel} (${cpus().length} cores). ${throughputN} messages per run; ${workers} processes × concurrency ${CONCURRENCY} for both.`);
  log('');
  log(`| run | bare SDK msg/s | bare client CPU ms/msg | pipeline msg/s (end to end) | worker CPU ms/msg | Redis CPU ms/msg | ratio rate | ratio CPU | load avg |`);
  log(`|---|---|---|---|---|---|---|---|---|`);
  for (let k = 0; k < repeat; k++) {
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
    const bare = await runBareSdk({ messages: throughputN, workers, concurrency: CONCURRENCY });
    if (bare.failed > 0 || bare.accepted !== throughputN) console.error(`bare SDK: ${bare.failed} failed, ${bare.accepted} accepted`);
    const r = await runCampaign({ subscribers: throughputN, sendRate: 1_000_000, workers, concurrency: CONCURRENCY });
    const s = windowStats(r.sim);
    const rate = (r.accepted * 1000) / r.elapsedMs;
    const workerCpu = (r.cpu.workers * 1000) / Math.max(1, r.accepted);
    if (s.duplicates > 0 || r.accepted !== throughputN) console.error(`pipeline: ${s.duplicates} duplicates, ${r.accepted} accepted`);
    log(`| ${k + 1} | ${Math.round(bare.rate)} | ${bare.clientCpuMs.toFixed(2)} | ${Math.round(rate)} | ${workerCpu.toFixed(2)} | ${((r.cpu.redis * 1000) / r.accepted).toFixed(2)} | ${(rate / bare.rate).toFixed(2)} | ${(workerCpu / bare.clientCpuMs).toFixed(2)} | ${load} |`);
    console.error(`ratio: pipeline/bare-SDK rate ${(rate / bare.rate).toFixed(3)} (${Math.round(rate)} / ${Math.round(bare.rate)} msg/s); worker CPU/msg ${workerCpu.toFixed(2)} ms vs bare client ${bare.clientCpuMs.toFixed(2)} ms = ${(workerCpu / bare.clientCpuMs).toFixed(2)}x; CPU ${cpuModel}`);
    console.error(`pipeline time: first message ${r.firstSendMs} ms after the trigger, last ${r.lastSendMs} ms, 'sent' at ${r.elapsedMs} ms (seen at ${r.seenMs} ms); steady ${Math.round(s.avg)} msg/s`);
  }
  log('');
  if (!args.includes('--write')) process.exit(0);
}

if (throughputN > 0) {
  const workers = Number(arg('workers', '2'));
  const r = await runCampaign({ subscribers: throughputN, sendRate: 1_000_000, workers, concurrency: CONCURRENCY });
  const s = windowStats(r.sim);
  log(`## Throughput, no rate limit`);
  log('');
  log(`${throughputN} subscribers, ${workers} worker process(es) × concurrency ${CONCURRENCY}: ${r.accepted} accepted in ${(r.elapsedMs / 1000).toFixed(1)} s from trigger to campaign 'sent' = **${Math.round((r.accepted * 1000) / r.elapsedMs)} msg/s** end to end (steady rate between first and last acceptance ${Math.round(s.avg)} msg/s; duplicates ${s.duplicates}; 50/90/99% of messages accepted ${s.p50}/${s.p90}/${s.p99} ms after the first). Goal ≥ 2,000 msg/s. ${cpuLine(r)}`);
  log('');
}

if (rates.length > 0) {
  log(warmSeconds > 0 ? `## Rate accuracy, warm workers (after a ${warmSeconds} s campaign at the same rate)` : `## Rate accuracy`);
  log('');
  log(`| SEND_RATE | workers | messages | achieved average | worst sliding 1 s | duplicates | Throttling answered | first message after the trigger |`);
  log(`|---|---|---|---|---|---|---|---|`);
  const tallies: string[] = [];
  for (const rate of rates) {
    const n = Math.max(50, Math.round(rate * seconds));
    const rateWorkers = args.includes('--rate-workers') ? Number(arg('rate-workers', '1')) : rate >= 200 ? 2 : 1;
    const r = await runCampaign({ subscribers: n, sendRate: rate, workers: rateWorkers, concurrency: Number(process.env.BENCH_RATE_CONCURRENCY ?? Math.max(20, Math.min(200, rate))), simRate: rate, warm: warmSeconds > 0 ? Math.max(50, Math.round(rate * warmSeconds)) : 0 });
    const s = windowStats(r.sim);
    log(`| ${rate}/s | ${rateWorkers} | ${r.accepted} | ${s.avg.toFixed(1)}/s (${((s.avg / rate) * 100).toFixed(1)}%) | ${s.worst} | ${s.duplicates} | ${s.throttled} | ${r.firstSendMs} ms |`);
    const t = r.limiter;
    tallies.push(`${rate}/s: ${t.granted ?? 0} granted, ${t.staleSlots ?? 0} slots given up late, ${t.pushedBack ?? 0} pushes back, ${t.lateGrants ?? 0} late grants`);
  }
  log('');
  log(`Rate limiter, the workers' tally at shutdown (each slot given up or push back is schedule lost below the rate${warmSeconds > 0 ? '; the warm-up campaign included' : ''}): ${tallies.join('; ')}.`);
  log('');
}

if (memoryN > 0) {
  const r = await runCampaign({ subscribers: memoryN, sendRate: 1_000_000, workers: 1, concurrency: CONCURRENCY });
  log(`## Memory, ${memoryN}-subscriber campaign`);
  log('');
  log(`Redis used_memory_peak: **${(r.redisPeakBytes / 1024 / 1024).toFixed(1)} MB** (goal < 100 MB; the fan-out keeps ≤ 10,000 send jobs waiting). Worker peak RSS (VmHWM): **${(r.workerPeakRssKb[0]! / 1024).toFixed(0)} MB** (goal < 200 MB; ${(r.readyRssKb[0]! / 1024).toFixed(0)} MB of it already at start, before any job). ${r.accepted} accepted in ${(r.elapsedMs / 1000).toFixed(1)} s (${Math.round((r.accepted * 1000) / r.elapsedMs)} msg/s, one worker process). ${cpuLine(r)}`);
  log('');
}

if (!args.includes('--no-write')) {
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  // Replace the measured part; keep the hand-written notes below the marker.
  const out = join(ROOT, 'bench/results/send.md');
  const MARKER = '<!-- notes: kept by bench/send.ts -->';
  const old = existsSync(out) ? readFileSync(out, 'utf8') : '';
  const notes = old.includes(MARKER) ? old.slice(old.indexOf(MARKER)) : `${MARKER}\n`;
  writeFileSync(out, `${lines.join('\n')}\n${notes}`);
}
process.exit(0);
