/**
 * Batched claims (workers/claim-batcher.ts → DeliveryLedger.claimManyIfMailable): one
 * statement for the claims of several jobs must claim exactly what the same claims made one
 * by one would: every mailable queued row once, across racing workers, never a row whose
 * subscriber left, and a lease (claimed_at) that is the one written.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BACKENDS, createTestStore, type TestStore } from '../support/store.js';
import { DeliveryLedger, type ClaimedDelivery } from '../../src/store/delivery-ledger.js';
import { CampaignsRepository } from '../../src/store/campaigns-repository.js';
import { AudienceRepository } from '../../src/store/audience-repository.js';
import { ClaimBatcher } from '../../workers/claim-batcher.js';
import { seedAudience } from '../support/pipeline.js';

describe.each(BACKENDS)('batched claims on %s', (dialect) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.drop();
    store = undefined;
  });

  it('two racing workers claim every mailable row exactly once and no departed subscriber', async () => {
    store = await createTestStore(dialect);
    const db = store.db;
    const listId = await seedAudience(db, 60);
    const campaigns = new CampaignsRepository(db);
    const c = await campaigns.create({
      listId, subject: 's', issueTitle: 't', issueSlug: 't', issueDate: null, sourcePath: null,
      sourceMarkdown: '', compiledJson: '{}', scheduledAt: null, status: 'draft',
    });
    const ledger = new DeliveryLedger(db);
    const subs = await db.selectFrom('subscribers').select(['id', 'email']).orderBy('id').execute();
    await ledger.insertQueued(c.id, subs.map((s) => ({ subscriberId: s.id, email: s.email })));
    // Every fifth subscriber left (unsubscribed), every seventh was suppressed.
    const now = Date.now();
    for (const [i, s] of subs.entries()) {
      if (i % 5 === 0) await db.updateTable('list_members').set({ status: 'unsubscribed' }).where('subscriber_id', '=', s.id).execute();
      else if (i % 7 === 0) await db.insertInto('suppressions').values({ email: s.email, reason: 'complained', detail: null, created_at: now }).execute();
    }
    const audience = new AudienceRepository(db);
    const mailable = new Set<number>();
    for (const s of subs) if (await audience.isMailable(s.id, listId)) mailable.add(s.id);
    expect(mailable.size).toBeGreaterThan(30);
    expect(mailable.size).toBeLessThan(60);

    const w1 = new ClaimBatcher(ledger, 'w1', { maxRows: 8, maxDelayMs: 2 });
    const w2 = new ClaimBatcher(ledger, 'w2', { maxRows: 5, maxDelayMs: 1 });
    // Each worker asks for every row, the second one twice (a duplicated job in one batch).
    const results = await Promise.all([
      ...subs.map((s) => w1.claimIfMailable(c.id, s.id, listId).then((r) => ({ worker: 'w1', id: s.id, r }))),
      ...subs.map((s) => w2.claimIfMailable(c.id, s.id, listId).then((r) => ({ worker: 'w2', id: s.id, r }))),
      ...subs.map((s) => w2.claimIfMailable(c.id, s.id, listId).then((r) => ({ worker: 'w2', id: s.id, r }))),
    ]);
    const wins = results.filter((x) => x.r !== null);
    expect(wins.map((w) => w.id).sort((a, b) => a - b)).toEqual([...mailable].sort((a, b) => a - b));
    for (const w of wins) {
      const row = await ledger.get(c.id, w.id);
      expect(row?.status).toBe('sending');
      expect(row?.claimed_by).toBe(w.worker);
      expect(Number(row?.attempts)).toBe(w.r!.token.attempt);
      expect(Number(row?.claimed_at)).toBe(w.r!.claimedAt);
      expect(w.r!.email).toBe(subs.find((s) => s.id === w.id)!.email);
      expect(w.r!.token.workerId).toBe(w.worker);
    }
    for (const s of subs) if (!mailable.has(s.id)) expect((await ledger.get(c.id, s.id))?.status).toBe('queued');
  });

  it('a failed statement fails every claim of its batch and claims nothing', async () => {
    const failing = { claimManyIfMailable: () => Promise.reject(new Error('database unreachable')) };
    const b = new ClaimBatcher(failing, 'w1', { maxRows: 3 });
    const all = await Promise.allSettled([1, 2, 3].map((id) => b.claimIfMailable(1, id, 1)));
    expect(all.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
  });
});

describe('the claim batch window', () => {
  const recordingLedger = (statements: Array<{ ids: number[]; at: number }>) =>
    ({
      claimManyIfMailable: (_c: number, ids: number[]) => {
        statements.push({ ids, at: performance.now() });
        const claimed = (id: number): ClaimedDelivery => ({ campaignId: 7, subscriberId: id, email: `${id}@example.com`, name: null, attempts: 1, claimedAt: 0, token: { workerId: 'w', attempt: 1 } });
        return Promise.resolve(new Map(ids.map((id) => [id, claimed(id)])));
      },
    }) as unknown as ConstructorParameters<typeof ClaimBatcher>[0];

  it("never waits past roomMs before the nearest slot of its claims' permits: a due slot goes at the next tick", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const statements: Array<{ ids: number[]; at: number }> = [];
      const batcher = new ClaimBatcher(recordingLedger(statements), 'w', { maxDelayMs: 10, roomMs: 20 });
      const t0 = performance.now();
      // Slots 100 ms away: the window's 10 ms holds.
      const far = [1, 2].map((id) => batcher.claimIfMailable(7, id, 1, t0 + 100));
      await vi.advanceTimersByTimeAsync(10);
      await Promise.all(far);
      // A slot 25 ms away: 5 ms, not 10. Then one already due (no limit on the rate): at once,
      // taking the claims that came with it and re-arming the batch's timer, not adding one.
      const near = batcher.claimIfMailable(7, 3, 1, performance.now() + 25);
      await vi.advanceTimersByTimeAsync(1);
      const due = [4, 5].map((id) => batcher.claimIfMailable(7, id, 1, performance.now() - 1));
      await vi.advanceTimersByTimeAsync(0);
      await Promise.all([near, ...due]);
      await vi.advanceTimersByTimeAsync(50);
      expect(statements.map((s) => s.ids)).toEqual([[1, 2], [3, 4, 5]]);
      expect(statements.map((s) => Math.round(s.at - t0))).toEqual([10, 11]);
      // Without a slot (no permit) only the window applies.
      const plain = batcher.claimIfMailable(7, 6, 1);
      await vi.advanceTimersByTimeAsync(9);
      expect(statements).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(1);
      await plain;
      expect(statements.map((s) => s.ids)).toEqual([[1, 2], [3, 4, 5], [6]]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('by default gathers claims that arrive over several ms (the permits of a 500/s schedule, 2 ms apart) into one statement', async () => {
    vi.useFakeTimers();
    try {
      const statements: Array<{ ids: number[]; at: number }> = [];
      const batcher = new ClaimBatcher(recordingLedger(statements), 'w');
      const claims: Array<Promise<unknown>> = [];
      for (let id = 1; id <= 4; id++) {
        claims.push(batcher.claimIfMailable(7, id, 1));
        await vi.advanceTimersByTimeAsync(2);
      }
      await vi.advanceTimersByTimeAsync(20);
      await Promise.all(claims);
      // Claims happen in the permit's lead before its slot, so waiting for company costs no send time.
      expect(statements.map((s) => s.ids)).toEqual([[1, 2, 3, 4]]);
    } finally {
      vi.useRealTimers();
    }
  });
});
