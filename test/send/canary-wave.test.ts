/**
 * Issue 14, canary wave: the first wave goes to the most recently engaged subscribers (then a
 * seeded random order), the rest waits for CANARY_WAIT_MIN; a wave over the breaker's bounce
 * threshold pauses the campaign with the rate in its reason and the rest is never sent until
 * an editor resumes, after which each remaining subscriber gets it exactly once. Real SES
 * simulator (bounce@ addresses answer with signed Bounce notifications applied through the
 * production event path), real Redis, SQLite and PostgreSQL. Counted from the simulator.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { createHarness, exampleCompiled, type Harness } from '../support/send-harness.js';
import { seedSubscriber, suppression } from '../support/seed.js';
import { sleep, waitFor } from '../support/pipeline.js';
import { BACKENDS } from '../support/store.js';
import { CLI_ACTOR } from '../../src/campaigns/campaign-activity.js';
import type { Database } from '../../src/store/schema.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** An open recorded for a subscriber (what the events webhook stores, with its class), `agoMs` ago. */
async function seedOpen(db: Kysely<Database>, subscriberId: number, email: string, agoMs: number, engagement: 'human' | 'machine' = 'human'): Promise<void> {
  await db
    .insertInto('events')
    .values({
      sns_message_id: `seed-open-${subscriberId}-${agoMs}-${engagement}`,
      type: 'open',
      subtype: null,
      ses_message_id: null,
      email,
      campaign_id: null,
      subscriber_id: subscriberId,
      detail: null,
      occurred_at: Date.now() - agoMs,
      payload: '{}',
      engagement,
      created_at: Date.now(),
    })
    .execute();
}

async function waveMembers(h: Harness, campaignId: number): Promise<number[]> {
  const rows = await h.store.db.selectFrom('deliveries').select('subscriber_id').where('campaign_id', '=', campaignId).where('wave', '=', 1).execute();
  return rows.map((r) => Number(r.subscriber_id)).sort((a, b) => a - b);
}

async function readerId(h: Harness, email: string): Promise<number> {
  return Number((await h.store.db.selectFrom('subscribers').select('id').where('email', '=', email).executeTakeFirstOrThrow()).id);
}

function sentCountsOf(h: Harness, emails: string[]): { missing: string[]; twice: string[] } {
  const counts = h.counts();
  return { missing: emails.filter((e) => !counts.has(e)), twice: emails.filter((e) => (counts.get(e) ?? 0) > 1) };
}

async function actions(h: Harness, id: number): Promise<string[]> {
  return (await h.ctx.orchestrator.activity(id)).map((e) => e.action);
}

// The wait: 4 s (CANARY_WAIT_MIN takes fractions of a minute for tests).
const WAIT_MIN = String(4 / 60);

describe.each(BACKENDS)('canary wave (%s)', (dialect) => {
  it('a wave over the bounce threshold pauses with the rate; the rest is never sent; resume sends each remaining subscriber once', async () => {
    h = await createHarness({
      dialect,
      subscribers: 40,
      sendRate: 200,
      sendEvents: true,
      allEvents: true,
      // The account-wide breaker's minimum is far above the wave: what pauses here is the wave's own check.
      env: { CANARY_PERCENT: '10%', CANARY_WAIT_MIN: WAIT_MIN, BREAKER_MIN_DELIVERIES: '1000' },
    });
    const db = h.store.db;
    // Four bounce@ addresses that opened recently: the wave takes the most recently engaged first.
    const bouncers: string[] = [];
    const bouncerIds: number[] = [];
    for (let i = 1; i <= 4; i++) {
      const email = `bounce+c${i}@simulator.amazonses.com`;
      const sid = await seedSubscriber(db, email, [h.listId]);
      await seedOpen(db, sid, email, i * 60_000);
      bouncers.push(email);
      bouncerIds.push(sid);
    }
    const id = await h.startCampaign();
    expect((await h.ctx.campaigns.get(id))!).toMatchObject({ total: 44, canary_size: 5, canary_phase: 'selecting' });
    await h.startWorker();

    await h.waitForStatus(id, 'paused', 30_000);
    const stats = await h.ctx.orchestrator.stats(id);
    expect(stats.pause_code).toBe('canary');
    expect(stats.paused_reason).toMatch(/bounce rate 80\.00% \(4\/5\) reached the limit 5\.00%/);
    expect(stats.canary).toMatchObject({ percent: 10, size: 5, phase: 'waiting', sent: 5, bounced: 4 });
    const wave = await waveMembers(h, id);
    expect(wave).toHaveLength(5);
    expect(wave).toEqual(expect.arrayContaining(bouncerIds));
    expect(h.sim.messages).toHaveLength(5);

    // Well past the wait: the rest is still held.
    await sleep(5_000);
    expect((await h.ctx.campaigns.status(id))!.status).toBe('paused');
    expect(h.sim.messages).toHaveLength(5);

    // The fix: the bounced addresses are suppressed (the bounce notifications did it); an editor resumes.
    for (const e of bouncers) expect(await suppression(db, e)).toBeTruthy();
    expect(await h.ctx.orchestrator.resume(id, { actor: CLI_ACTOR })).toBe(true);
    await h.waitForStatus(id, 'sent', 60_000);

    const everyone = [...h.expectedEmails(), ...bouncers];
    expect(sentCountsOf(h, everyone)).toEqual({ missing: [], twice: [] });
    expect(h.sim.messages).toHaveLength(44);
    const log = await actions(h, id);
    expect(log).toEqual(['created', 'started', 'canary-wave', 'canary-waiting', 'paused', 'resumed', 'finished']);
    expect((await h.ctx.orchestrator.activity(id)).find((e) => e.action === 'paused')!.detail).toMatch(/canary wave failed.*bounce rate 80\.00%/);
  }, 120_000);
});

describe.each(BACKENDS)('canary wave, clean list (%s)', (dialect) => {
  it('holds the rest (status shows the wave and the time left) and sends it by itself when the wait passes', async () => {
    h = await createHarness({ dialect, subscribers: 60, sendRate: 200, sendEvents: true, allEvents: true, env: { CANARY_WAIT_MIN: WAIT_MIN } });
    const db = h.store.db;
    // Three readers who engaged: they are in the wave before anybody random.
    const engaged = [await readerId(h, 'reader10@example.com'), await readerId(h, 'reader20@example.com'), await readerId(h, 'reader30@example.com')];
    for (const [i, sid] of engaged.entries()) await seedOpen(db, sid, `reader${(i + 1) * 10}@example.com`, (i + 1) * 1000);
    // Five more whose only opens are machine ones (Apple MPP prefetch), more recent than any
    // human open: were they counted, they would fill 5 of the 6 wave places before the readers.
    for (let i = 1; i <= 5; i++) await seedOpen(db, await readerId(h, `reader${40 + i}@example.com`), `reader${40 + i}@example.com`, 10 * i, 'machine');

    // Per campaign (the CLI's --canary / the API's canary), with no CANARY_PERCENT default.
    const c = await h.ctx.orchestrator.create({
      listId: h.listId, subject: 'Week 42', issueTitle: 'Week 42', issueSlug: 'week-42', issueDate: null, sourcePath: null,
      sourceMarkdown: '# Week 42', compiledJson: JSON.stringify(await exampleCompiled()), scheduledAt: null, status: 'draft',
    });
    await h.ctx.orchestrator.start(c.id, CLI_ACTOR, { canaryPercent: 10 });
    await h.startWorker();

    await waitFor('the wave is out and the rest holds', async () => (await h!.ctx.orchestrator.stats(c.id)).canary?.phase === 'waiting', 30_000, 50);
    const holding = await h.ctx.orchestrator.stats(c.id);
    expect(holding.status).toBe('sending');
    expect(holding.canary).toMatchObject({ percent: 10, size: 6, phase: 'waiting', sent: 6, bounced: 0 });
    expect(holding.canary!.seconds_left).toBeGreaterThan(0);
    expect(holding.canary!.wait_until).not.toBeNull();
    expect(holding.canary_text).toMatch(/holding the rest, \d+ s left/);
    const wave = await waveMembers(h, c.id);
    expect(wave).toHaveLength(6);
    expect(wave).toEqual(expect.arrayContaining(engaged));
    expect(h.sim.messages).toHaveLength(6);

    await h.waitForStatus(c.id, 'sent', 60_000);
    // The rest went only after the deadline.
    const deadline = new Date(holding.canary!.wait_until!).getTime();
    const after = h.sim.messages.slice(6);
    expect(after.length).toBe(54);
    for (const m of after) expect(m.at).toBeGreaterThanOrEqual(deadline - 50);
    expect(sentCountsOf(h, h.expectedEmails())).toEqual({ missing: [], twice: [] });
    expect(await actions(h, c.id)).toEqual(['created', 'started', 'canary-wave', 'canary-waiting', 'canary-released', 'finished']);
    const done = await h.ctx.orchestrator.stats(c.id);
    expect(done).toMatchObject({ status: 'sent', sent: 60, failed: 0, queued: 0 });
  }, 120_000);

  it('a rejected wave message (MessageRejected) pauses the campaign with that reason before the rest goes', async () => {
    h = await createHarness({
      dialect,
      subscribers: 20,
      sendRate: 200,
      sendEvents: true,
      allEvents: true,
      sim: { rejectRecipients: ['broken@example.com'] },
      env: { CANARY_PERCENT: '10%', CANARY_WAIT_MIN: WAIT_MIN },
    });
    const sid = await seedSubscriber(h.store.db, 'broken@example.com', [h.listId]);
    await seedOpen(h.store.db, sid, 'broken@example.com', 1000);
    const id = await h.startCampaign();
    await h.startWorker();
    await h.waitForStatus(id, 'paused', 30_000);
    const stats = await h.ctx.orchestrator.stats(id);
    expect(stats.pause_code).toBe('canary');
    expect(stats.paused_reason).toMatch(/1 of the wave's messages failed \(rejected or not rendered\): .*MessageRejected/);
    expect(await waveMembers(h, id)).toContain(sid);
    // Only the wave (3 of 21) was offered to SES; the rejected one was not accepted.
    expect(h.sim.messages).toHaveLength(2);
    await sleep(5_000);
    expect(h.sim.messages).toHaveLength(2);
  }, 120_000);
});
