import { describe, expect, it } from 'vitest';
import { estimateSend, formatDuration } from './send-estimate.js';

describe('estimateSend', () => {
  it('states audience, rate and duration as the confirmation shows them', () => {
    expect(estimateSend(2431, 14)).toEqual({ recipients: 2431, ratePerSecond: 14, seconds: 174, text: '2,431 subscribers at 14/s ≈ 2 min 54 s' });
  });

  it('rounds a started second up, says "subscriber" for one and nothing to send for none', () => {
    expect(estimateSend(1, 14).text).toBe('1 subscriber at 14/s ≈ 1 s');
    expect(estimateSend(15, 14).seconds).toBe(2);
    expect(estimateSend(0, 14).text).toBe('0 subscribers: nothing to send');
    expect(estimateSend(100, 2.5).text).toBe('100 subscribers at 2.5/s ≈ 40 s');
  });

  it('counts hours for large lists and refuses a rate that is not positive', () => {
    expect(estimateSend(1_000_000, 200).text).toBe('1,000,000 subscribers at 200/s ≈ 1 h 23 min 20 s');
    expect(() => estimateSend(10, 0)).toThrow(/positive/);
  });
});

describe('formatDuration', () => {
  it('drops leading zero units only', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(60)).toBe('1 min 0 s');
    expect(formatDuration(3605)).toBe('1 h 0 min 5 s');
  });
});
