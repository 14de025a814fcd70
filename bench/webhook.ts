/**
 * Webhook throughput: 2,000 signed SNS notifications posted with 50 concurrent
 * connections on loopback (undici, from a separate load-generator process), each applied exactly once, then replays that must
 * change nothing. Reports throughput and latency percentiles.
 *
 *   npx tsx bench/webhook.ts [--backend sqlite|postgres] [--count 2000] [--connections 50] [--out bench/results/events.md] [--cpu-prof FILE] [--log-level info]
 */
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { request } from 'undici';
import { SesTransport } from '../src/ses/ses-transport.js';
import { startSesSimulator } from '../src/simulator/ses-simulator.js';
import { AudienceRepository } from '../src/store/audience-repository.js';
import { signUnsubscribeToken } from '../src/unsubscribe/token.js';
import { loadConfig } from '../src/config.js';
import { CachingCertificateSource, ChainedCertificateSource, type CertificateSource } from '../src/events/sns-verify.js';
import { buildApp } from '../src/http/app.js';
import { campaignPauser } from '../test/support/campaign-pauser.js';
import { createSnsSigningIdentity, signedNotification } from '../src/simulator/sns-signer.js';
import type { DialectName } from '../src/store/db.js';
import { createTestStore } from '../test/support/store.js';
import { seedCampaign, seedDeliveries, seedList } from '../test/support/seed.js';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'sqlite' },
    count: { type: 'string', default: '2000' },
    connections: { type: 'string', default: '50' },
    replays: { type: 'string', default: '500' },
    out: { type: 'string', default: 'bench/results/events.md' },
    // Write a V8 CPU profile of the server process covering only the main run (open in Chrome DevTools).
    'cpu-prof': { type: 'string' },
    // The server logs as in production (LOG_LEVEL defaults to info), into /dev/null.
    'log-level': { type: 'string', default: 'info' },
  },
});
const backend = args.backend as DialectName;
const COUNT = Number(args.count);
const CONNECTIONS = Number(args.connections);
const REPLAYS = Math.min(Number(args.replays), COUNT);
const execFileAsync = promisify(execFile);
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:bench';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main() {
  const store = await createTestStore(backend);
  const db = store.db;
  const identity = await createSnsSigningIdentity();
  // Stands in for the HTTPS fetch behind the cache: counts how often it is reached.
  let certFetches = 0;
  const network: CertificateSource = {
    getCertificate: async () => {
      certFetches++;
      await new Promise((r) => setTimeout(r, 30));
      return identity.certPem;
    },
  };
  const certificateSource = new ChainedCertificateSource(undefined, new CachingCertificateSource(network));
  const config = loadConfig({ DATABASE_URL: store.url, SNS_TOPIC_ARNS: TOPIC, UNSUBSCRIBE_SECRET: 'bench' });
  const app = await buildApp({ config, store, campaignPauser: campaignPauser(store), logger: pino({ name: 'newsletter', level: args['log-level'] }, pino.destination({ dest: '/dev/null', sync: true })), certificateSource });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });

  // Seed: one sending campaign with COUNT ledger rows awaiting their Delivery event.
  const listId = await seedList(db, 'bench');
  const campaignId = await seedCampaign(db, listId);
  await seedDeliveries(db, campaignId, COUNT, { emailPrefix: 'b', sesPrefix: 'bench-' });

  const delivery = (i: number) => ({
    eventType: 'Delivery',
    mail: { timestamp: new Date().toISOString(), messageId: `bench-${i}`, destination: [`b${i}@example.com`], tags: { campaign: [String(campaignId)] } },
    delivery: { timestamp: new Date().toISOString(), recipients: [`b${i}@example.com`], smtpResponse: '250 ok' },
  });
  const bodies = Array.from({ length: COUNT }, (_, i) => JSON.stringify(signedNotification(delivery(i), identity, { topicArn: TOPIC, version: '2' })));

  // The load generator runs as its own process (bench/webhook-load.ts) so client CPU is not counted.
  const tmp = mkdtempSync(join(tmpdir(), 'webhook-bench-'));
  async function run(list: string[]): Promise<{ seconds: number; results: Array<{ status: number; applied?: boolean; ms: number }> }> {
    const file = join(tmp, 'bodies.json');
    writeFileSync(file, JSON.stringify(list));
    const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', 'bench/webhook-load.ts', `${address}/webhooks/ses`, file, String(CONNECTIONS)], { maxBuffer: 64 * 1024 * 1024 });
    return JSON.parse(stdout) as { seconds: number; results: Array<{ status: number; applied?: boolean; ms: number }> };
  }

  // Warm-up: JIT, connections and the certificate cache (notifications for unknown message ids).
  const warm = Array.from({ length: 200 }, (_, i) => JSON.stringify(signedNotification({ eventType: 'Delivery', mail: { messageId: `warm-${i}`, destination: ['w@example.com'] }, delivery: {} }, identity, { topicArn: TOPIC })));
  await run(warm);

  const profiler = args['cpu-prof'] ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const cpu0 = process.cpuUsage();
  const main = await run(bodies);
  const cpu = process.cpuUsage(cpu0);
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(args['cpu-prof']!, JSON.stringify(profile));
    profiler.disconnect();
  }
  // CPU time of the server process (HTTP, verification, SQLite) per notification: a load-independent figure.
  const cpuMsPerNotification = (cpu.user + cpu.system) / 1000 / COUNT;
  const replayBodies = bodies.slice(0, REPLAYS);
  const replay = await run(replayBodies);
  rmSync(tmp, { recursive: true, force: true });

  // Checks: all accepted, each applied exactly once, replays ignored, store consistent.
  const failures: string[] = [];
  const notOk = main.results.filter((r) => r.status !== 200 || r.applied !== true).length;
  if (notOk) failures.push(`${notOk} first deliveries not 200/applied`);
  const replayApplied = replay.results.filter((r) => r.status !== 200 || r.applied !== false).length;
  if (replayApplied) failures.push(`${replayApplied} replays were applied or failed`);
  const events = await db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', campaignId).executeTakeFirstOrThrow();
  if (Number(events.n) !== COUNT) failures.push(`events for the campaign: ${events.n}, expected ${COUNT}`);
  const delivered = await db.selectFrom('deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', campaignId).where('status', '=', 'delivered').executeTakeFirstOrThrow();
  if (Number(delivered.n) !== COUNT) failures.push(`delivered rows: ${delivered.n}, expected ${COUNT}`);
  if (certFetches !== 1) failures.push(`certificate fetched ${certFetches} times, expected 1`);

  // Latency of the acceptance paths: SES simulator bounce@/complaint@ (real SDK → signed SNS POST →
  // webhook) until the subscriber is bounced/complained and suppressed; one-click POST until the
  // audience query skips the subscriber.
  const sim = await startSesSimulator({ notifyUrl: `${address}/webhooks/ses`, signingIdentity: identity, topicArn: TOPIC, maxSendRate: 1000 });
  const transport = new SesTransport({ region: 'us-east-1', endpoint: sim.url });
  const simLatencies: number[] = [];
  for (let i = 0; i < 20; i++) {
    const kind = i % 2 === 0 ? 'bounce' : 'complaint';
    const email = `${kind}+${i}@simulator.amazonses.com`;
    await db.insertInto('subscribers').values({ email, name: null, status: 'active', attributes: '{}', status_reason: null, created_at: 1, updated_at: 1 }).execute();
    const t0 = performance.now();
    await transport.sendRaw({ raw: Buffer.from(`From: e@example.com\r\nTo: ${email}\r\nSubject: s\r\n\r\nhi\r\n`), from: 'e@example.com', to: email });
    const want = kind === 'bounce' ? 'bounced' : 'complained';
    for (;;) {
      const row = await db.selectFrom('subscribers').select('status').where('email', '=', email).executeTakeFirstOrThrow();
      const sup = await db.selectFrom('suppressions').select('email').where('email', '=', email).executeTakeFirst();
      if (row.status === want && sup) break;
      if (performance.now() - t0 > 10_000) {
        failures.push(`${email} not ${want} within 10 s`);
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    simLatencies.push(performance.now() - t0);
  }
  transport.destroy();
  await sim.close();
  const audience = new AudienceRepository(db);
  const clickLatencies: number[] = [];
  for (let i = 0; i < 50; i++) {
    const sub = await db.insertInto('subscribers').values({ email: `u${i}@example.com`, name: null, status: 'active', attributes: '{}', status_reason: null, created_at: 1, updated_at: 1 }).returning('id').executeTakeFirstOrThrow();
    await db.insertInto('list_members').values({ list_id: listId, subscriber_id: Number(sub.id), status: 'subscribed', created_at: 1, updated_at: 1 }).execute();
    const token = signUnsubscribeToken({ subscriberId: Number(sub.id), listId }, 'bench');
    const t0 = performance.now();
    const res = await request(`${address}/u/${token}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    await res.body.dump();
    const mailable = await audience.isMailable(Number(sub.id), listId);
    clickLatencies.push(performance.now() - t0);
    if (res.statusCode !== 200 || mailable) failures.push(`one-click for subscriber ${sub.id}: ${res.statusCode}, still mailable: ${mailable}`);
  }
  simLatencies.sort((a, b) => a - b);
  clickLatencies.sort((a, b) => a - b);

  const lat = main.results.map((r) => r.ms).sort((a, b) => a - b);
  const rlat = replay.results.map((r) => r.ms).sort((a, b) => a - b);
  const throughput = COUNT / main.seconds;
  const summary = {
    backend,
    count: COUNT,
    connections: CONNECTIONS,
    seconds: Number(main.seconds.toFixed(3)),
    throughput_per_s: Math.round(throughput),
    p50_ms: Number(percentile(lat, 50).toFixed(1)),
    p99_ms: Number(percentile(lat, 99).toFixed(1)),
    max_ms: Number(lat[lat.length - 1]!.toFixed(1)),
    replays: REPLAYS,
    replay_throughput_per_s: Math.round(REPLAYS / replay.seconds),
    replay_p99_ms: Number(percentile(rlat, 99).toFixed(1)),
    cert_fetches: certFetches,
    simulator_to_suppressed_p50_ms: Math.round(percentile(simLatencies, 50)),
    simulator_to_suppressed_max_ms: Math.round(simLatencies[simLatencies.length - 1]!),
    one_click_to_skipped_p50_ms: Number(percentile(clickLatencies, 50).toFixed(1)),
    one_click_to_skipped_max_ms: Number(clickLatencies[clickLatencies.length - 1]!.toFixed(1)),
    cpu_ms_per_notification: Number(cpuMsPerNotification.toFixed(3)),
    cpu_share: Number(((cpu.user + cpu.system) / 1e6 / main.seconds).toFixed(2)),
    load_average: Number(loadavg()[0]!.toFixed(1)),
    ok: failures.length === 0,
  };
  console.log(JSON.stringify(summary, null, 2));
  for (const f of failures) console.error(`FAIL: ${f}`);

  if (args.out) {
    mkdirSync(dirname(args.out), { recursive: true });
    if (!existsSync(args.out)) {
      writeFileSync(args.out, '# Events: SES webhook benchmark\n\nEach row: `npx tsx bench/webhook.ts --backend <backend>` (2,000 signed SNS Delivery notifications, RSA-SHA256, 50 concurrent undici connections on loopback, warm certificate cache; then 500 replays). Goal: ≥ 2,000 notifications/s.\n\n| date (UTC) | backend | notifications | throughput /s | p50 ms | p99 ms | max ms | replays /s | replay p99 ms | CPU ms / notification | load avg | simulator bounce/complaint → suppressed p50 / max ms | one-click → skipped p50 / max ms | checks |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n');
    }
    const row =
      `| ${new Date().toISOString().slice(0, 16).replace('T', ' ')} | ${backend} | ${COUNT} | ${summary.throughput_per_s} | ${summary.p50_ms} | ${summary.p99_ms} | ${summary.max_ms} | ${summary.replay_throughput_per_s} | ${summary.replay_p99_ms} | ${summary.cpu_ms_per_notification} | ${summary.load_average} | ${summary.simulator_to_suppressed_p50_ms} / ${summary.simulator_to_suppressed_max_ms} | ${summary.one_click_to_skipped_p50_ms} / ${summary.one_click_to_skipped_max_ms} | ${failures.length ? 'FAILED: ' + failures.join('; ') : 'all applied once, replays ignored'} (${cpus().length} cores shared) |\n`;
    // Insert after the first table's last row (the file continues with notes), else append.
    const lines = readFileSync(args.out, 'utf8').split('\n');
    let last = lines.findIndex((line) => line.startsWith('|---'));
    while (last >= 0 && lines[last + 1]?.startsWith('| ')) last++;
    if (last < 0) appendFileSync(args.out, row);
    else writeFileSync(args.out, [...lines.slice(0, last + 1), row.trimEnd(), ...lines.slice(last + 1)].join('\n'));
  }
  await app.close();
  await store.drop();
  process.exitCode = failures.length ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
