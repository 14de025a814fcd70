/**
 * Bounce/complaint settle latency through the whole pipeline: campaign → worker → real
 * AWS SDK → SES simulator → signed SNS notification → POST /webhooks/ses → subscriber
 * store. For each bounce@/complaint@ address, the time from the simulator accepting the
 * send to the subscriber being bounced/complained and suppressed (goal ≤ 2 s). The test
 * (test/events/pipeline-events.test.ts) checks that they settle; how soon is measured here.
 *
 *   npx tsx bench/bounce-settle.ts [--each 10] [--rate 50]
 */
import { parseArgs } from 'node:util';
import { createSurfaceHarness, SAMPLE_MARKDOWN, sleep } from '../test/support/surface-harness.js';

const { values: args } = parseArgs({ options: { each: { type: 'string', default: '10' }, rate: { type: 'string', default: '50' } } });
const EACH = Number(args.each);
const RATE = Number(args.rate);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const h = await createSurfaceHarness({ sendRate: RATE });
try {
  const expected = new Map<string, 'bounced' | 'complained'>();
  for (let i = 0; i < EACH; i++) {
    expected.set(`bounce+b${i}@simulator.amazonses.com`, 'bounced');
    expected.set(`complaint+c${i}@simulator.amazonses.com`, 'complained');
  }
  const emails = [...expected.keys(), ...Array.from({ length: EACH }, (_, i) => `success+s${i}@simulator.amazonses.com`)];
  for (const email of emails) {
    const added = await h.api('POST', '/api/subscribers', { token: h.tokens.admin, body: { email, list: 'bench' } });
    if (added.status !== 201) throw new Error(`adding ${email}: ${added.status} ${added.text}`);
  }
  await h.startWorker();
  const created = await h.api('POST', '/api/campaigns', { token: h.tokens.admin, body: { markdown: SAMPLE_MARKDOWN, list: 'bench' } });
  if (created.status !== 201) throw new Error(`creating the campaign: ${created.status} ${created.text}`);
  const id = (created.json.campaign as { id: number }).id;
  const sent = await h.api('POST', `/api/campaigns/${id}/send`, { token: h.tokens.admin, body: {} });
  if (sent.status !== 202) throw new Error(`sending: ${sent.status} ${sent.text}`);

  const settledAfter = new Map<string, number>();
  const deadline = Date.now() + 120_000;
  while (settledAfter.size < expected.size && Date.now() < deadline) {
    for (const [email, status] of expected) {
      if (settledAfter.has(email)) continue;
      const accepted = h.sim.messages.find((m) => m.destinations.includes(email));
      if (!accepted) continue;
      const row = await h.store.db
        .selectFrom('subscribers')
        .leftJoin('suppressions', 'suppressions.email', 'subscribers.email')
        .select(['subscribers.status', 'suppressions.reason'])
        .where('subscribers.email', '=', email)
        .executeTakeFirst();
      if (row?.status === status && row.reason) settledAfter.set(email, Date.now() - accepted.at);
    }
    await sleep(10);
  }
  const ms = [...settledAfter.values()];
  console.log(`${EACH} bounce@ + ${EACH} complaint@ + ${EACH} success@ addresses, SEND_RATE=${RATE}, SQLite, worker and server in this process (polled every 10 ms):\n`);
  console.log('| settled | p50 ms | p95 ms | max ms | goal |\n|---|---|---|---|---|');
  console.log(`| ${settledAfter.size} of ${expected.size} | ${pct(ms, 50)} | ${pct(ms, 95)} | ${Math.max(...ms)} | ≤ 2000 ms |`);
  if (settledAfter.size < expected.size) process.exitCode = 1;
} finally {
  await h.close();
}
