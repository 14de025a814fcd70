/**
 * Sign-up benchmark, on the real services (SES simulator, Redis, SQLite):
 *  1. confirmation latency while a campaign is sending at the SES rate with the default
 *     worker concurrency (how long a reader waits for the mail while a backlog is queued);
 *  2. POST /subscribe handling time (distinct addresses and IPs, 150 ms neutral floor).
 * Writes bench/results/pages.md.
 *
 *   npx tsx bench/signup.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildApp } from '../src/http/app.js';
import { campaignPauser } from '../test/support/campaign-pauser.js';
import { createRedisConnection } from '../src/queue/connection.js';
import { openSignupPages } from '../src/signup/signup-pages.js';
import { TEST_REDIS_URL } from '../test/support/redis.js';
import { createHarness } from '../test/support/send-harness.js';
import { sleep, waitFor } from '../test/support/pipeline.js';

const RATE = 14;
const CONCURRENCY = 50;
const SUBSCRIBERS = 500;
const SIGNUPS = 20;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

const h = await createHarness({ subscribers: SUBSCRIBERS, sendRate: RATE, sim: { maxSendRate: RATE }, env: { WORKER_CONCURRENCY: String(CONCURRENCY) } });
const redis = createRedisConnection(TEST_REDIS_URL);
const pages = openSignupPages(h.config, redis);
const app = await buildApp({ config: h.config, store: h.store, campaignPauser: campaignPauser(h.store), logger: pino({ level: 'silent' }), signup: pages.signup });
try {
  await h.startWorker();
  const campaignId = await h.startCampaign();
  const campaign = () => h.sim.messages.filter((m) => m.destinations[0]!.startsWith('reader')).length;
  await waitFor('campaign under way', () => campaign() >= 3 * RATE, 30_000, 20);

  const sentAt = new Map<string, number>();
  for (let i = 0; i < SIGNUPS; i++) {
    const email = `bench${i}@example.org`;
    sentAt.set(email, Date.now());
    await app.inject({ method: 'POST', url: '/subscribe', headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: `198.18.0.${i + 1}`, payload: `email=${email}` });
    await sleep(300);
  }
  const accepted = await waitFor('confirmations', () => {
    const found = [...sentAt.keys()].map((e) => h.sim.messages.find((x) => x.destinations.includes(e)));
    return found.every(Boolean) ? found.map((m) => m!) : null;
  }, 60_000, 10);
  const latencies = accepted.map((m) => m.at - sentAt.get(m.destinations[0]!)!);
  await h.waitForStatus(campaignId, 'sent', 120_000);
  const backlog = accepted.map((m) => h.sim.messages.filter((x) => x.destinations[0]!.startsWith('reader') && x.at > m.at).length);
  const throttles = h.sim.throttleCount();
  const worst = h.sim.worstWindow();

  // POST handling without a campaign running: 200 distinct sign-ups, 20 at a time.
  const handle: number[] = [];
  const t = Date.now();
  for (let b = 0; b < 10; b++) {
    await Promise.all(
      Array.from({ length: 20 }, async (_, k) => {
        const i = b * 20 + k;
        const s = performance.now();
        await app.inject({ method: 'POST', url: '/subscribe', headers: { 'content-type': 'application/x-www-form-urlencoded' }, remoteAddress: `198.19.${b}.${k + 1}`, payload: `email=load${i}@example.org` });
        handle.push(performance.now() - s);
      }),
    );
  }
  const perSecond = (200 * 1000) / (Date.now() - t);

  const out = `# Subscriber pages: benchmarks

Measured ${new Date().toISOString().slice(0, 10)} on this machine (2 shared cores, other helpers' tests running), \`npx tsx bench/signup.ts\`.

## Confirmation mail latency during a campaign

Campaign of ${SUBSCRIBERS} at SEND_RATE=${RATE} (simulator max rate ${RATE}), WORKER_CONCURRENCY=${CONCURRENCY}; ${SIGNUPS} sign-ups 300 ms apart while it sends (confirmation worker concurrency 16).
Latency = POST /subscribe until the SES simulator accepted the confirmation mail.

| p50 | p95 | max | campaign mails still sent after each confirmation (min) |
|---|---|---|---|
| ${pct(latencies, 50)} ms | ${pct(latencies, 95)} ms | ${Math.max(...latencies)} ms | ${Math.min(...backlog)} |

Throttling answers during the run: ${throttles}; worst sliding second: ${worst} (limit ${RATE}).

Why this number: confirmations have their own queue, so they never wait behind the campaign's
backlog, but they take permits from the same global limiter (GCRA, first come first served),
where each in-flight bulk send already holds a slot. A confirmation therefore waits about
(WORKER_CONCURRENCY + confirmations in flight) / SEND_RATE seconds (${CONCURRENCY}/${RATE} ≈ ${(CONCURRENCY / RATE).toFixed(1)} s and more here),
independent of the campaign's size: the ${SUBSCRIBERS}-mail campaign kept sending for many seconds after the last one.
A lower WORKER_CONCURRENCY shortens it; true preemption would need a priority lane in the limiter.

## POST /subscribe

200 distinct sign-ups, 20 concurrent (no campaign): p50 ${pct(handle, 50).toFixed(0)} ms, p95 ${pct(handle, 95).toFixed(0)} ms
(the neutral answer is padded to a 150 ms floor), ${perSecond.toFixed(0)} sign-ups/s through one process.

## Notes for the README (subscriber pages)

- Routes: \`GET|POST /subscribe\` (form or JSON: \`email\`, optional \`name\`, \`list\`), \`GET|POST /confirm/:token\`
  (GET shows a button, POST activates), \`GET /archive\`, \`GET /archive/:slug\`, \`GET /archive/feed.xml\` (RSS 2.0),
  \`POST /u/:token/resubscribe\` (the button on the unsubscribe page).
- Environment: \`SIGNUP_SECRET\` (HMAC key for confirmation/resubscribe links; default UNSUBSCRIBE_SECRET),
  \`PENDING_EXPIRY_H\` (48: unconfirmed sign-ups and their links expire), \`SIGNUP_LISTS\` (\`default\`: the lists
  the public form may subscribe to, comma-separated, first is the default), \`SIGNUP_RATE_PER_IP\` (10 POSTs per hour,
  then 429), \`SIGNUP_RATE_PER_ADDRESS\` (3 confirmation mails per address per day; further requests get the same
  answer but no mail). Set \`TRUST_PROXY\` behind a reverse proxy so the per-IP limit sees client addresses.
- Double opt-in: until a reader confirms, the address exists only as a \`signup_requests\` row: no subscriber, no
  membership, so no campaign can reach it. New, subscribed, bounced, complained and suppressed addresses all get the
  same bytes back; bounced/complained/suppressed addresses are never mailed and cannot be confirmed or resubscribed.
- \`subscribers add\` and CSV import stay single opt-in (the editor vouches for the list); \`subscribers add EMAIL
  --double-opt-in\` sends the confirmation mail instead.
- The worker process sends confirmation mails from their own BullMQ queue (\`confirmation\`) through the same SES
  transport and global rate limiter as campaigns, and deletes expired sign-up requests every 10 minutes.
- Archive pages are rendered from the frozen compiled issue with the subscriber fields neutralised (no address, no
  token); every campaign mail links its page as "view in browser".
`;
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'results', 'pages.md'), out);
  console.log(out);
} finally {
  await app.close();
  await pages.close();
  redis.disconnect();
  await h.close();
}
process.exit(0);
