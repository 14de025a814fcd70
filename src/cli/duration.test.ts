import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';

describe('parseDuration', () => {
  it('reads a number and a unit', () => {
    expect(parseDuration('90d')).toBe(90 * 86400_000);
    expect(parseDuration('12h')).toBe(12 * 3600_000);
    expect(parseDuration('2w')).toBe(14 * 86400_000);
    expect(parseDuration('30m')).toBe(1800_000);
    expect(parseDuration('45s')).toBe(45_000);
  });
  it('refuses anything else', () => {
    for (const bad of ['', '90', 'd', '0d', '-1d', '1.5d', '90 days', '1y', '9999999d']) expect(parseDuration(bad), bad).toBeNull();
  });
});
