/**
 * The dashboard's read queries and the subscriber search on both backends (one query
 * code path for SQLite and Postgres): time buckets, top links, recent problems, LIKE
 * escaping.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DashboardQueries } from '../../src/http/admin/dashboard-queries.js';
import { createSubscribersService } from '../../src/http/api/subscribers-service.js';
import { BACKENDS, createTestStore, type TestStore } from '../support/store.js';

describe.each(BACKENDS)('read queries on %s', (dialect) => {
  let store: TestStore;
  const start = 1_790_000_000_000;

  beforeAll(async () => {
    store = await createTestStore(dialect);
    const db = store.db;
    const list = await db.insertInto('lists').values({ name: 'l', created_at: start }).returning('id').executeTakeFirstOrThrow();
    const c = await db
      .insertInto('campaigns')
      .values({
        list_id: list.id, status: 'sent', subject: 's', issue_title: 't', issue_slug: 's', issue_date: null, source_path: null, source_markdown: '',
        compiled_json: null, scheduled_at: null, started_at: start, finished_at: start + 10_000, audience_max_subscriber_id: 10, fanout_cursor: 10,
        fanout_done: 1, total: 10, paused_reason: null, created_at: start, updated_at: start,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('deliveries')
      .values(
        Array.from({ length: 10 }, (_, i) => ({
          campaign_id: c.id, subscriber_id: i + 1, email: `r${i}@example.com`, status: (i === 9 ? 'bounced' : 'delivered') as 'delivered',
          ses_message_id: `m${i}`, attempts: 1, last_error: null, claimed_by: null, claimed_at: null, sent_at: start + i * 1000 + 500,
          confirmed_at: null, outcome_at: start + i * 1000 + 700, opened_at: null, clicked_at: null, created_at: start, updated_at: start,
        })),
      )
      .execute();
    const ev = (n: number, type: string, detail: string, at: number) => ({
      sns_message_id: `sns-${n}`, type, subtype: type === 'bounce' ? 'Permanent' : null, ses_message_id: `m${n}`, email: `r${n}@example.com`,
      campaign_id: c.id, subscriber_id: n + 1, detail, occurred_at: at, payload: '{}', created_at: at,
    });
    await db
      .insertInto('events')
      .values([ev(9, 'bounce', '550 user unknown', start + 9700), ev(1, 'click', 'https://a.example', start + 20_000), ev(2, 'click', 'https://a.example', start + 21_000), ev(3, 'click', 'https://b.example', start + 22_000), ev(4, 'delivery', '', start + 5000)])
      .execute();
    const subs = createSubscribersService(store);
    await subs.importCsv(Readable.from(['email,name\nann_x@example.com,Ann 100%\nannex@example.com,Bob\nzed@example.com,Ann Other\n']), 'l');
  });
  afterAll(async () => {
    await store?.drop();
  });

  it('buckets sends, deliveries and bounces per second, cumulatively', async () => {
    const q = new DashboardQueries(store);
    const c = await store.db.selectFrom('campaigns').select('id').executeTakeFirstOrThrow();
    const series = await q.series(c.id, start, start + 10_000);
    expect(series).toHaveLength(10);
    expect(series.at(-1)).toEqual({ t: 10_000, sent: 10, delivered: 9, bounced: 1 });
    expect(series[0]).toEqual({ t: 1000, sent: 1, delivered: 1, bounced: 0 });
    expect(await q.topLinks(c.id)).toEqual([
      { url: 'https://a.example', clicks: 2 },
      { url: 'https://b.example', clicks: 1 },
    ]);
    const problems = await q.recentProblems(c.id);
    expect(problems).toEqual([{ type: 'bounce', subtype: 'Permanent', email: 'r9@example.com', detail: '550 user unknown', occurred_at: start + 9700 }]);
  });

  it('searches email and name, treating LIKE wildcards literally', async () => {
    const subs = createSubscribersService(store);
    const byUnderscore = await subs.search({ q: 'ann_', limit: 10, offset: 0 });
    expect(byUnderscore.items.map((s) => s.email)).toEqual(['ann_x@example.com']);
    const byPercent = await subs.search({ q: '100%', limit: 10, offset: 0 });
    expect(byPercent.items.map((s) => s.email)).toEqual(['ann_x@example.com']);
    const byName = await subs.search({ q: 'ANN', list: 'l', limit: 1, offset: 0 });
    expect(byName.total).toBe(3);
    expect(byName.items).toHaveLength(1);
    expect((await subs.search({ status: 'unsubscribed', limit: 10, offset: 0 })).total).toBe(0);
  });
});
