import { describe, expect, it } from 'vitest';
import { averageRate, worstSlidingWindow } from './sliding-window.js';

describe('worstSlidingWindow', () => {
  it('is 0 for no events and 1 for one', () => {
    expect(worstSlidingWindow([])).toBe(0);
    expect(worstSlidingWindow([42])).toBe(1);
  });

  it('uses a half-open window: points exactly windowMs apart are not in one window', () => {
    expect(worstSlidingWindow([0, 1000])).toBe(1);
    expect(worstSlidingWindow([0, 999.9])).toBe(2);
  });

  it('finds the 2x burst a fixed-window limiter allows at a second boundary', () => {
    // 100 events at the end of second 0 and 100 at the start of second 1: every
    // fixed second holds 100, but the window [900, 1900) holds all 200.
    const late = Array.from({ length: 100 }, (_, i) => 900 + i);
    const early = Array.from({ length: 100 }, (_, i) => 1000 + i);
    expect(worstSlidingWindow([...late, ...early])).toBe(200);
  });

  it('counts evenly spaced events at exactly the rate', () => {
    const ts = Array.from({ length: 1000 }, (_, i) => i * 5); // 200/s
    expect(worstSlidingWindow(ts)).toBe(200);
    expect(worstSlidingWindow(ts, 500)).toBe(100);
  });

  it('does not depend on input order and does not modify it', () => {
    const ts = [5, 1, 1500, 3, 1200, 2];
    const copy = [...ts];
    expect(worstSlidingWindow(ts)).toBe(4);
    expect(ts).toEqual(copy);
  });

  it('rejects a non-positive window', () => {
    expect(() => worstSlidingWindow([1], 0)).toThrow(RangeError);
  });
});

describe('averageRate', () => {
  it('is intervals over span', () => {
    expect(averageRate([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100])).toBeCloseTo(100);
    expect(averageRate([3])).toBe(0);
  });
});
