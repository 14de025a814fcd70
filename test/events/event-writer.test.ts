import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { parseSesNotification } from '../../src/events/ses-notification.js';
import { eventRules } from '../../src/events/event-effects.js';
import { EventWriter } from '../../src/store/event-writer.js';
import { EventApplier } from '../../src/events/event-applier.js';
import type { PauseReason } from '../../src/campaigns/pause-reason.js';
import { BACKENDS, createTestStore, type TestStore } from '../support/store.js';
import { delivery, seedCampaign, seedDeliveries, seedDelivery, seedList, seedSubscriber } from '../support/seed.js';
import { MARK } from '../../src/events/engagement-marks.js';

describe.each(BACKENDS)('EventWriter group commit (%s)', (dialect) => {
  let store: TestStore;
  afterEach(async () => {
    await store?.drop();
  });

  const deliveryMessage = (sesId: string) => JSON.stringify({ eventType: 'Delivery', mail: { messageId: sesId, destination: ['a@example.com'] }, delivery: {} });

  /** A fresh store with campaign c and two ledger rows: a (no SES id yet) and b ('ses-b'). */
  async function seedRowsAB() {
    store = await createTestStore(dialect);
    const db = store.db;
    const list = await seedList(db, 'default');
    const c = await seedCampaign(db, list);
    const a = await seedSubscriber(db, 'a@example.com', [list]);
    const b = await seedSubscriber(db, 'b@example.com', [list]);
    await seedDelivery(db, { campaignId: c, subscriberId: a, email: 'a@example.com', sesMessageId: null });
    await seedDelivery(db, { campaignId: c, subscriberId: b, email: 'b@example.com', sesMessageId: 'ses-b' });
    return { db, list, c, a, b };
  }

  /** Writes an SES message body (events parsed at 1000) at now = 2000. */
  function writeAt2000(db: TestStore['db']) {
    const writer = new EventWriter(db, eventRules(loadConfig({})));
    return (snsMessageId: string, body: object) => {
      const message = JSON.stringify(body);
      return writer.write({ snsMessageId, message, events: parseSesNotification(message, 1000) }, 2000);
    };
  }

  it('applies concurrent copies of one SNS message exactly once', async () => {
    store = await createTestStore(dialect);
    const repo = new EventWriter(store.db, eventRules(loadConfig({})));
    const message = deliveryMessage('ses-1');
    const results = await Promise.all(Array.from({ length: 20 }, () => repo.write({ snsMessageId: 'sns-1', message, events: parseSesNotification(message) })));
    expect(results.filter((r) => r.applied)).toHaveLength(1);
    expect(await store.db.selectFrom('events').selectAll().execute()).toHaveLength(1);
  });

  it('a notification that fails does not take the others in its batch down with it', async () => {
    store = await createTestStore(dialect);
    const db = store.db;
    const list = await seedList(db, 'default');
    const c = await seedCampaign(db, list);
    const ids = await seedDeliveries(db, c, 5, { emailPrefix: 'g', sesPrefix: 'ses-g' });
    const repo = new EventWriter(db, eventRules(loadConfig({})));
    const calls = ids.map((_, i) => {
      const message = deliveryMessage(`ses-g${i}`);
      const events = parseSesNotification(message);
      // occurred_at is NOT NULL: a NaN timestamp makes this one insert fail on both dialects.
      if (i === 2) events[0]!.occurredAt = Number.NaN;
      return repo.write({ snsMessageId: `sns-g${i}`, message, events });
    });
    const settled = await Promise.allSettled(calls);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    for (const [i, s] of ids.entries()) expect((await delivery(db, c, s)).status, `row ${i}`).toBe(i === 2 ? 'sent' : 'delivered');
    expect(await db.selectFrom('events').select('sns_message_id').orderBy('sns_message_id').execute()).toEqual(
      ['sns-g0', 'sns-g1', 'sns-g3', 'sns-g4'].map((sns_message_id) => ({ sns_message_id })),
    );
  });

  it('finds rows by tags (learning their SES id), moves them forward only, and records rejects as failed', async () => {
    const { db, list, c, a, b } = await seedRowsAB();
    const d = await seedSubscriber(db, 'd@example.com', [list]);
    await seedDelivery(db, { campaignId: c, subscriberId: d, email: 'd@example.com', sesMessageId: 'ses-d', status: 'complained' });
    const apply = writeAt2000(db);
    const tags = (s: number) => ({ campaign: [String(c)], subscriber: [String(s)] });
    // Unknown SES id, found by tags: delivered, and the row learns the id.
    await apply('n1', { eventType: 'Delivery', mail: { messageId: 'ses-a', destination: ['a@example.com'], tags: tags(a) }, delivery: { timestamp: '2026-01-01T00:00:00.000Z' } });
    expect(await delivery(db, c, a)).toMatchObject({ status: 'delivered', ses_message_id: 'ses-a', outcome_at: Date.parse('2026-01-01T00:00:00.000Z'), updated_at: 2000 });
    const [eventA] = await db.selectFrom('events').select(['campaign_id', 'subscriber_id', 'type', 'email']).where('sns_message_id', '=', 'n1').execute();
    expect(eventA).toEqual({ campaign_id: c, subscriber_id: a, type: 'delivery', email: 'a@example.com' });
    // Reject: failed with the reason.
    await apply('n2', { eventType: 'Reject', mail: { messageId: 'ses-b', destination: ['b@example.com'] }, reject: { reason: 'Bad content' } });
    expect(await delivery(db, c, b)).toMatchObject({ status: 'failed', last_error: 'reject: Bad content' });
    // Never backwards: Delivery after a complaint leaves the row complained.
    expect((await apply('n3', { eventType: 'Delivery', mail: { messageId: 'ses-d', destination: ['d@example.com'] }, delivery: {} })).applied).toBe(true);
    expect((await delivery(db, c, d)).status).toBe('complained');
  });

  it('in one batch, a later event finds a row by the SES id an earlier event of the batch taught it', async () => {
    const { db, c, a, b } = await seedRowsAB();
    const apply = writeAt2000(db);
    // Issued together: they share one transaction (group commit).
    const results = await Promise.all([
      apply('m1', { eventType: 'Delivery', mail: { messageId: 'ses-b', destination: ['b@example.com'] }, delivery: {} }),
      apply('m2', { eventType: 'Delivery', mail: { messageId: 'ses-a', destination: ['a@example.com'], tags: { campaign: [String(c)], subscriber: [String(a)] } }, delivery: {} }),
      apply('m3', { eventType: 'Open', mail: { messageId: 'ses-a', destination: ['a@example.com'] }, open: { timestamp: '2026-01-02T00:00:00.000Z' } }),
      apply('m1', { eventType: 'Delivery', mail: { messageId: 'ses-b', destination: ['b@example.com'] }, delivery: {} }),
    ]);
    expect(results.map((r) => r.applied)).toEqual([true, true, true, false]);
    expect(await delivery(db, c, a)).toMatchObject({ status: 'delivered', ses_message_id: 'ses-a', opened_at: Date.parse('2026-01-02T00:00:00.000Z') });
    expect((await delivery(db, c, b)).status).toBe('delivered');
    const events = await db.selectFrom('events').select(['sns_message_id', 'campaign_id', 'subscriber_id']).orderBy('sns_message_id').execute();
    expect(events).toEqual([
      { sns_message_id: 'm1', campaign_id: c, subscriber_id: b },
      { sns_message_id: 'm2', campaign_id: c, subscriber_id: a },
      { sns_message_id: 'm3', campaign_id: c, subscriber_id: a },
    ]);
  });
  it('a batch of Deliveries (set-based on Postgres) applies each once, with its own times, and ignores replays in and across batches', async () => {
    store = await createTestStore(dialect);
    const db = store.db;
    const list = await seedList(db, 'default');
    const c = await seedCampaign(db, list);
    const subs = await seedDeliveries(db, c, 6, { emailPrefix: 'd', sesPrefix: 'ses-d' });
    await db.updateTable('deliveries').set({ status: 'complained' }).where('subscriber_id', '=', subs[5]!).execute();
    const repo = new EventWriter(db, eventRules(loadConfig({})));
    const apply = (i: number, now: number) => {
      const message = JSON.stringify({ eventType: 'Delivery', mail: { messageId: `ses-d${i}`, destination: [`d${i}@example.com`] }, delivery: { timestamp: new Date(1_000_000 + i).toISOString() } });
      return repo.write({ snsMessageId: `sns-d${i}`, message, events: parseSesNotification(message, 0) }, now);
    };
    expect((await apply(0, 5000)).applied).toBe(true);
    // One batch: a replay of an earlier batch (0), four new ones, a copy of one of them, and a
    // Delivery for a row already complained (5: stored, but the row does not move back).
    const results = await Promise.all([apply(0, 6000), apply(1, 6001), apply(2, 6002), apply(3, 6003), apply(2, 6004), apply(4, 6005), apply(5, 6006)]);
    expect(results.map((r) => r.applied)).toEqual([false, true, true, true, false, true, true]);
    for (const [i, s] of subs.entries()) {
      const row = await delivery(db, c, s);
      if (i === 5) expect(row.status).toBe('complained');
      else expect(row, `row ${i}`).toMatchObject({ status: 'delivered', outcome_at: 1_000_000 + i, updated_at: [5000, 6001, 6002, 6003, 6005][i] });
    }
    const events = await db.selectFrom('events').select(['sns_message_id', 'type', 'campaign_id', 'subscriber_id', 'created_at']).orderBy('sns_message_id').execute();
    expect(events).toEqual([0, 1, 2, 3, 4, 5].map((i) => ({ sns_message_id: `sns-d${i}`, type: 'delivery', campaign_id: c, subscriber_id: subs[i], created_at: [5000, 6001, 6002, 6003, 6005, 6006][i] })));
  });

  it('a batch of Opens (set-based on Postgres) applies each once: the earliest open per row, marks and counts as one by one, replays ignored', async () => {
    store = await createTestStore(dialect);
    const db = store.db;
    const list = await seedList(db, 'default');
    const c = await seedCampaign(db, list, 'sent');
    const subs = await seedDeliveries(db, c, 5, { emailPrefix: 'o', sesPrefix: 'ses-o', status: 'delivered' });
    await db.updateTable('deliveries').set({ outcome_at: 1_000_000 }).where('campaign_id', '=', c).execute();
    // Row 4 was opened before, at 2,000,000: a later open leaves that time.
    await db.updateTable('deliveries').set({ opened_at: 2_000_000 }).where('subscriber_id', '=', subs[4]!).execute();
    await db.deleteFrom('campaign_delivery_count_deltas').execute();
    const repo = new EventWriter(db, eventRules(loadConfig({})));
    const HUMAN_AGENT = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Thunderbird/128.0';
    const open = (sns: string, i: number, at: number, ipAddress = '203.0.113.9') => {
      const message = JSON.stringify({ eventType: 'Open', mail: { messageId: `ses-o${i}`, destination: [`o${i}@example.com`] }, open: { timestamp: new Date(at).toISOString(), ipAddress, userAgent: HUMAN_AGENT } });
      return repo.write({ snsMessageId: sns, message, events: parseSesNotification(message, 0) }, 9_000_000);
    };
    expect((await open('sns-early', 3, 1_500_000)).applied).toBe(true);
    // One batch: row 0 opened twice (the later first), row 1 by a person and by Apple's proxy, row 2 once and its copy,
    // a replay of the earlier batch's open, and row 4 (opened before).
    const results = await Promise.all([
      open('sns-0b', 0, 3_000_000), open('sns-0a', 0, 2_500_000), open('sns-1h', 1, 2_200_000), open('sns-1m', 1, 2_300_000, '17.58.0.1'),
      open('sns-2', 2, 2_100_000), open('sns-2', 2, 2_100_000), open('sns-early', 3, 1_500_000), open('sns-4', 4, 2_600_000),
    ]);
    expect(results.map((r) => r.applied)).toEqual([true, true, true, true, true, false, false, true]);
    const opened = await db.selectFrom('deliveries').select(['subscriber_id', 'opened_at']).where('campaign_id', '=', c).orderBy('subscriber_id').execute();
    expect(opened.map((r) => Number(r.opened_at))).toEqual([2_500_000, 2_200_000, 2_100_000, 1_500_000, 2_000_000]);
    const events = await db.selectFrom('events').select(['sns_message_id', 'subscriber_id', 'engagement']).where('type', '=', 'open').orderBy('sns_message_id').execute();
    expect(events).toEqual([
      { sns_message_id: 'sns-0a', subscriber_id: subs[0], engagement: 'human' },
      { sns_message_id: 'sns-0b', subscriber_id: subs[0], engagement: 'human' },
      { sns_message_id: 'sns-1h', subscriber_id: subs[1], engagement: 'human' },
      { sns_message_id: 'sns-1m', subscriber_id: subs[1], engagement: 'machine' },
      { sns_message_id: 'sns-2', subscriber_id: subs[2], engagement: 'human' },
      { sns_message_id: 'sns-4', subscriber_id: subs[4], engagement: 'human' },
      { sns_message_id: 'sns-early', subscriber_id: subs[3], engagement: 'human' },
    ]);
    // Marks and their counts: row 1 has a human and a machine open; the others a human one.
    const marks = await db.selectFrom('campaign_engagement_marks').select(['subscriber_id', 'mark']).where('campaign_id', '=', c).orderBy('subscriber_id').execute();
    const human = MARK.anyOpen | MARK.humanOpen;
    expect(marks.map((m) => Number(m.mark))).toEqual([human, human | MARK.machineOpen, human, human, human]);
    const counts = await db.selectFrom('campaign_engagement_counts').select(['mark', 'n']).where('campaign_id', '=', c).where('n', '<>', 0).orderBy('mark').execute();
    expect(counts.map((r) => [Number(r.mark), Number(r.n)])).toEqual([[human, 4], [human | MARK.machineOpen, 1]]);
    // Postgres: the batch moved its ledger rows in one statement, so the statement trigger of
    // migration 0015 wrote one delta row for them (one by one: one per row opened).
    if (dialect === 'postgres') {
      const deltas = await db.selectFrom('campaign_delivery_count_deltas').select(['opened']).where('campaign_id', '=', c).execute();
      expect(deltas.map((d) => Number(d.opened)).sort()).toEqual([1, 3]);
    }
  });

  it('reports a tripped breaker and leaves the campaign to the orchestrator (the store does not pause it); a replay changes nothing but reports it again, so a pause lost to a crash happens on SNS\'s retry', async () => {
    store = await createTestStore(dialect);
    const db = store.db;
    const c = await seedCampaign(db, await seedList(db, 'default'), 'sending');
    await seedDeliveries(db, c, 10, { emailPrefix: 'k', sesPrefix: 'ses-k', status: 'delivered' });
    const writer = new EventWriter(db, eventRules(loadConfig({ COMPLAINT_RATE_LIMIT: '0.1', BREAKER_MIN_DELIVERIES: '10' })));
    const complaint = (i: number) => {
      const message = JSON.stringify({ notificationType: 'Complaint', complaint: { complainedRecipients: [{ emailAddress: `k${i}@example.com` }] }, mail: { messageId: `ses-k${i}`, destination: [`k${i}@example.com`] } });
      return writer.write({ snsMessageId: `sns-k${i}`, message, events: parseSesNotification(message, 1000) }, 2000);
    };
    const tripped = await complaint(0);
    expect(tripped).toMatchObject({ applied: true, stored: 1, tripped: [{ campaignId: c, reason: expect.stringMatching(/^complaint rate 10\.00% \(1\/10\)/) }] });
    expect((await db.selectFrom('campaigns').select('status').where('id', '=', c).executeTakeFirstOrThrow()).status).toBe('sending');
    expect((await delivery(db, c, (await db.selectFrom('deliveries').select('subscriber_id').where('ses_message_id', '=', 'ses-k0').executeTakeFirstOrThrow()).subscriber_id)).status).toBe('complained');
    const replay = await complaint(0);
    expect(replay).toMatchObject({ applied: false, stored: 0, tripped: [{ campaignId: c, reason: tripped.tripped[0]!.reason }] });
    expect(await db.selectFrom('events').select('sns_message_id').execute()).toHaveLength(1);
    // A replayed Delivery never asks for the breaker.
    const message = JSON.stringify({ notificationType: 'Delivery', delivery: { recipients: ['k1@example.com'] }, mail: { messageId: 'ses-k1', destination: ['k1@example.com'] } });
    const delivered = () => writer.write({ snsMessageId: 'sns-d1', message, events: parseSesNotification(message, 1000) }, 2000);
    expect((await delivered()).tripped).toEqual([]);
    expect(await delivered()).toEqual({ applied: false, stored: 0, tripped: [] });
  });

  it('a pause lost between the commit and the orchestrator (process died) happens when SNS retries the notification', async () => {
    store = await createTestStore(dialect);
    const db = store.db;
    const c = await seedCampaign(db, await seedList(db, 'default'), 'sending');
    await seedDeliveries(db, c, 10, { emailPrefix: 'r', sesPrefix: 'ses-r', status: 'delivered' });
    const writer = new EventWriter(db, eventRules(loadConfig({ COMPLAINT_RATE_LIMIT: '0.1', BREAKER_MIN_DELIVERIES: '10' })));
    const pauses: Array<{ id: number; reason: PauseReason }> = [];
    let dead = true;
    const applier = new EventApplier(writer, {
      pause: async (id, reason) => {
        if (dead) throw new Error('process died before the pause');
        pauses.push({ id, reason });
        return true;
      },
    });
    const message = JSON.stringify({ notificationType: 'Complaint', complaint: { complainedRecipients: [{ emailAddress: 'r0@example.com' }] }, mail: { messageId: 'ses-r0', destination: ['r0@example.com'] } });
    const post = () => applier.apply({ snsMessageId: 'sns-r0', message, events: parseSesNotification(message, 1000) }, 2000);
    await expect(post()).rejects.toThrow('process died');
    expect(pauses).toEqual([]);
    dead = false;
    // SNS got no 2xx, so it delivers the notification again: stored once, and the campaign pauses now.
    expect(await post()).toMatchObject({ applied: false, stored: 0, paused: [{ campaignId: c }] });
    expect(pauses).toEqual([{ id: c, reason: { code: 'breaker', note: expect.stringMatching(/^complaint rate 10\.00%/) } }]);
    expect(await db.selectFrom('events').select('sns_message_id').execute()).toEqual([{ sns_message_id: 'sns-r0' }]);
  });
});
