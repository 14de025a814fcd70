import { describe, expect, it } from 'vitest';
import { AudienceSizes, sizeFreshness, type AudienceSizeStore, type StoredAudienceSize } from './audience-sizes.js';

/** An in-memory store whose count is released by the test (to hold a recount open). */
function fakeStore(members: number) {
  const stored = new Map<number, StoredAudienceSize>();
  const calls = { counts: 0 };
  let release: (() => void) | undefined;
  let gate: Promise<void> | undefined;
  const store: AudienceSizeStore = {
    storedSize: async (listId) => stored.get(listId),
    storeSize: async (listId, size) => {
      const old = stored.get(listId);
      if (!old || old.countedAt < size.countedAt) stored.set(listId, size);
    },
    audienceCount: async () => {
      calls.counts++;
      if (gate) await gate;
      return members;
    },
  };
  return {
    store,
    stored,
    calls,
    setMembers: (n: number) => (members = n),
    hold: () => (gate = new Promise<void>((r) => (release = r))),
    release: () => {
      gate = undefined;
      release?.();
    },
  };
}

describe('sizeFreshness', () => {
  it('is missing without a count, fresh younger than the window, stale from its end on', () => {
    expect(sizeFreshness(undefined, 1000, 30_000)).toBe('missing');
    expect(sizeFreshness({ n: 5, countedAt: 1000 }, 30_999, 30_000)).toBe('fresh');
    expect(sizeFreshness({ n: 5, countedAt: 1000 }, 31_000, 30_000)).toBe('stale');
  });
});

describe('AudienceSizes', () => {
  it('counts a list never counted in the request and stores the count with the instant it began', async () => {
    const f = fakeStore(2431);
    let now = 5_000;
    const sizes = new AudienceSizes(f.store, { now: () => now++, refreshAfterMs: 30_000 });
    // The clock is read once to judge the stored count (5,000), then when the count begins (5,001).
    expect(await sizes.size(1)).toEqual({ n: 2431, countedAt: 5_001 });
    expect(f.stored.get(1)).toEqual({ n: 2431, countedAt: 5_001 });
    expect(f.calls.counts).toBe(1);
  });

  it('shows a fresh count without counting', async () => {
    const f = fakeStore(10);
    f.stored.set(1, { n: 7, countedAt: 1_000 });
    const sizes = new AudienceSizes(f.store, { now: () => 20_000, refreshAfterMs: 30_000 });
    expect(await sizes.size(1)).toEqual({ n: 7, countedAt: 1_000 });
    expect(f.calls.counts).toBe(0);
  });

  it('shows a stale count at once and recounts behind it, once however many ask; the next view has the new count', async () => {
    const f = fakeStore(12);
    f.stored.set(1, { n: 7, countedAt: 1_000 });
    const sizes = new AudienceSizes(f.store, { now: () => 40_000, refreshAfterMs: 30_000 });
    f.hold();
    // The answers do not wait for the held recount.
    const answers = await Promise.all([sizes.size(1), sizes.size(1), sizes.size(1)]);
    expect(answers).toEqual([{ n: 7, countedAt: 1_000 }, { n: 7, countedAt: 1_000 }, { n: 7, countedAt: 1_000 }]);
    expect(f.calls.counts).toBe(1);
    f.release();
    await sizes.settled();
    expect(await sizes.size(1)).toEqual({ n: 12, countedAt: 40_000 });
    expect(f.calls.counts).toBe(1);
  });

  it('a failed background recount is reported and leaves the last count standing', async () => {
    const f = fakeStore(3);
    f.stored.set(1, { n: 7, countedAt: 1_000 });
    f.store.audienceCount = async () => {
      throw new Error('database gone');
    };
    const errors: string[] = [];
    const sizes = new AudienceSizes(f.store, { now: () => 40_000, onError: (err, listId) => errors.push(`${listId}: ${(err as Error).message}`) });
    expect(await sizes.size(1)).toEqual({ n: 7, countedAt: 1_000 });
    await sizes.settled();
    await new Promise((r) => setImmediate(r));
    expect(errors).toEqual(['1: database gone']);
    expect(f.stored.get(1)).toEqual({ n: 7, countedAt: 1_000 });
  });
});
