import { describe, expect, it } from 'vitest';
import { clampEventsPruneCutoff, minimumEventRetentionMs } from './sns-replay-window.js';

describe('SNS replay window: how long events rows (the MessageId gate) must be kept', () => {
  const now = Date.parse('2026-11-28T12:00:00.000Z');

  it('is SNS_MAX_AGE_S plus the allowed future skew; forever without an age bound', () => {
    expect(minimumEventRetentionMs(3900)).toBe(3900_000 + 300_000);
    expect(minimumEventRetentionMs(0)).toBeNull();
  });

  it('moves a retention cutoff back so no row inside the window is pruned', () => {
    // A retention job asking to delete everything older than 10 minutes keeps the last 70 minutes.
    expect(clampEventsPruneCutoff(now - 600_000, now, 3900)).toBe(now - 4200_000);
    // A cutoff already older than the window is left as it is.
    expect(clampEventsPruneCutoff(now - 30 * 86400_000, now, 3900)).toBe(now - 30 * 86400_000);
    // No age bound: nothing may be pruned, ever.
    expect(clampEventsPruneCutoff(now - 30 * 86400_000, now, 0)).toBeNull();
  });
});
