/**
 * workers/completion-checks.ts: when a worker asks whether a campaign is finished. Fake timers:
 * what is asserted is which delay a check gets, not how long anything takes.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CompletionChecks } from '../../workers/completion-checks.js';

describe('completion checks', () => {
  let checked: number[];
  let checks: CompletionChecks;
  beforeEach(() => {
    vi.useFakeTimers();
    checked = [];
    checks = new CompletionChecks(async (id) => void checked.push(id), { busyMs: 250, idleMs: 10 });
  });
  afterEach(() => {
    checks.close();
    vi.useRealTimers();
  });

  it('while jobs of the campaign run here, settled rows ask for one check within busyMs', async () => {
    checks.jobStarted(7);
    for (let i = 0; i < 20; i++) {
      checks.settled(7);
      await vi.advanceTimersByTimeAsync(10);
    }
    // 200 ms of pokes: the first one's check is due at 250 ms, not pushed back by the others.
    expect(checked).toEqual([]);
    await vi.advanceTimersByTimeAsync(50);
    expect(checked).toEqual([7]);
    checks.jobEnded(7);
  });

  it("the last job's end brings the check forward to idleMs", async () => {
    checks.jobStarted(7);
    checks.jobStarted(7);
    checks.settled(7);
    checks.jobEnded(7);
    await vi.advanceTimersByTimeAsync(20);
    expect(checked).toEqual([]); // one job still running: the busy delay holds
    checks.jobEnded(7);
    await vi.advanceTimersByTimeAsync(10);
    expect(checked).toEqual([7]);
    // The earlier busy check was replaced, not kept as well.
    await vi.advanceTimersByTimeAsync(500);
    expect(checked).toEqual([7]);
  });

  it('campaigns are counted apart', async () => {
    checks.jobStarted(1);
    checks.jobStarted(2);
    checks.jobEnded(2);
    await vi.advanceTimersByTimeAsync(10);
    expect(checked).toEqual([2]);
    checks.settled(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(checked).toEqual([2]);
    checks.jobEnded(1);
    await vi.advanceTimersByTimeAsync(10);
    expect(checked).toEqual([2, 1]);
  });

  it('a failed check is reported with its campaign and the next poke asks again', async () => {
    const errors: Array<[string, number]> = [];
    let fail = true;
    checks.close();
    checks = new CompletionChecks(
      async (id) => {
        if (fail) throw new Error('database down');
        checked.push(id);
      },
      { idleMs: 10, onError: (err, id) => errors.push([String(err), id]) },
    );
    checks.jobStarted(3);
    checks.jobEnded(3);
    await vi.advanceTimersByTimeAsync(10);
    expect(errors).toEqual([['Error: database down', 3]]);
    fail = false;
    checks.settled(3);
    await vi.advanceTimersByTimeAsync(250);
    expect(checked).toEqual([3]);
  });

  it('close cancels pending checks', async () => {
    checks.settled(5);
    checks.close();
    await vi.advanceTimersByTimeAsync(1000);
    expect(checked).toEqual([]);
  });
});
