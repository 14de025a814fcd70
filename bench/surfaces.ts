/**
 * Surfaces bench: latency of what the dashboard polls every second and of the API stats,
 * on a finished 20,000-recipient campaign (ledger and events seeded directly), plus a
 * /metrics scrape and 10,000 random requests through the metrics hook.
 *   tsx bench/surfaces.ts
 */
import { rebuildEngagementMarks } from '../src/store/engagement-marks.js';
import { randomBytes } from 'node:crypto';
import { createSurfaceHarness } from '../test/support/surface-harness.js';
import type { DeliveryStatus } from '../src/store/schema.js';

const N = 20_000;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function time(label: string, runs: number, fn: () => Promise<void>): Promise<string> {
  for (let i = 0; i < 5; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return `| ${label} | ${runs} | ${pct(ms, 50).toFixed(1)} | ${pct(ms, 95).toFixed(1)} |`;
}

const h = await createSurfaceHarness();
try {
  const db = h.store.db;
  const now = Date.now();
  const start = now - 600_000;
  const list = await db.insertInto('lists').values({ name: 'bench', created_at: start }).returning('id').executeTakeFirstOrThrow();
  const campaign = await db
    .insertInto('campaigns')
    .values({
      list_id: list.id, status: 'sent', subject: 'Bench', issue_title: 'Bench', issue_slug: 'bench', issue_date: null, source_path: null,
      source_markdown: '', compiled_json: null, scheduled_at: null, started_at: start, finished_at: now, audience_max_subscriber_id: N,
      fanout_cursor: N, fanout_done: 1, total: N, paused_reason: null, created_at: start, updated_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (let i = 0; i < N; i += 1000) {
    const rows = Array.from({ length: 1000 }, (_, k) => {
      const s = i + k + 1;
      const sentAt = start + Math.floor((s / N) * 590_000);
      const status = s % 33 === 0 ? 'bounced' : s % 1000 === 0 ? 'complained' : 'delivered';
      return {
        campaign_id: campaign.id, subscriber_id: s, email: `r${s}@example.com`, status: status as DeliveryStatus, ses_message_id: randomBytes(8).toString('hex'),
        attempts: 1, last_error: null, claimed_by: null, claimed_at: null, sent_at: sentAt, confirmed_at: null, outcome_at: sentAt + 2000,
        opened_at: null, clicked_at: s % 10 === 0 ? sentAt + 60_000 : null, created_at: start, updated_at: now,
      };
    });
    await db.insertInto('deliveries').values(rows).execute();
    const events = rows
      .filter((r) => r.status !== 'delivered' || r.clicked_at)
      .map((r) => ({
        sns_message_id: randomBytes(12).toString('hex'), type: r.status === 'bounced' ? 'bounce' : r.status === 'complained' ? 'complaint' : 'click',
        subtype: r.status === 'bounced' ? 'Permanent' : null, ses_message_id: r.ses_message_id, email: r.email, campaign_id: campaign.id,
        subscriber_id: r.subscriber_id, detail: r.status === 'bounced' ? 'smtp; 550 5.1.1 user unknown' : `https://example.org/link/${r.subscriber_id % 12}`,
        occurred_at: r.outcome_at, payload: '{}', created_at: now,
      }));
    if (events.length) await db.insertInto('events').values(events).execute();
  }
  // Seeded past the event writer: the engagement counters it would have kept (migration 0020).
  await rebuildEngagementMarks(db, Number(campaign.id));

  // A dashboard session the way a browser gets one.
  const form = await h.app.inject({ method: 'GET', url: '/admin/login' });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
  const login = await h.app.inject({
    method: 'POST', url: '/admin/login',
    headers: { cookie: `nl_login_csrf=${csrf}`, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: csrf, token: h.tokens.admin }).toString(),
  });
  const cookie = ([] as string[]).concat(login.headers['set-cookie'] ?? []).find((c) => c.startsWith('nl_session='))!.split(';')[0]!;

  const rows: string[] = [];
  rows.push(await time('GET /api/campaigns/:id/stats (HTTP, bearer)', 200, async () => {
    const r = await fetch(`${h.base}/api/campaigns/${campaign.id}/stats`, { headers: { authorization: `Bearer ${h.tokens.editor}` } });
    await r.json();
  }));
  rows.push(await time('GET /admin/campaigns/:id/live.json (HTTP, session)', 200, async () => {
    const r = await fetch(`${h.base}/admin/campaigns/${campaign.id}/live.json`, { headers: { cookie } });
    await r.json();
  }));
  rows.push(await time('GET /admin/campaigns/:id page (HTTP, session)', 100, async () => {
    const r = await fetch(`${h.base}/admin/campaigns/${campaign.id}`, { headers: { cookie, accept: 'text/html' } });
    await r.text();
  }));
  rows.push(await time('GET /metrics (HTTP)', 200, async () => {
    const r = await fetch(`${h.base}/metrics`);
    await r.text();
  }));
  const t = performance.now();
  for (let i = 0; i < 10_000; i++) {
    await h.app.inject({ method: 'GET', url: `/${randomBytes(6).toString('hex')}`, headers: { 'user-agent': randomBytes(8).toString('hex') } });
  }
  const perReq = (performance.now() - t) / 10_000;

  console.log(`Finished campaign of ${N} recipients (ledger rows + ${N / 33 | 0} bounce, ${N / 10} click events), SQLite, this machine:\n`);
  console.log('| request | runs | p50 ms | p95 ms |\n|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log(`\n10,000 random unmatched requests through the metrics hook (inject): ${(perReq * 1000).toFixed(0)} µs each`);
} finally {
  await h.close();
}
