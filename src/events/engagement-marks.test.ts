import { describe, expect, it } from 'vitest';
import { addToMark, afterBurst, MARK, markMove, markOf } from './engagement-marks.js';

describe('engagement marks', () => {
  it('an open or click adds its class and "any" of its kind; null (before migration 0011) and unknown add only "any"', () => {
    expect(markOf('open', 'human')).toBe(MARK.humanOpen | MARK.anyOpen);
    expect(markOf('open', 'machine')).toBe(MARK.machineOpen | MARK.anyOpen);
    expect(markOf('open', 'unknown')).toBe(MARK.anyOpen);
    expect(markOf('open', null)).toBe(MARK.anyOpen);
    expect(markOf('click', 'human')).toBe(MARK.humanClick | MARK.anyClick);
    expect(markOf('click', 'machine')).toBe(MARK.machineClick | MARK.anyClick);
    expect(markOf('click', null)).toBe(MARK.anyClick);
  });

  it('adding is idempotent (a duplicate or redelivered event changes nothing) and order-free', () => {
    const a = markOf('open', 'machine');
    const b = markOf('click', 'human');
    expect(addToMark(addToMark(0, a), b)).toBe(addToMark(addToMark(0, b), a));
    expect(addToMark(addToMark(0, a), a)).toBe(a);
    expect(markMove(a, addToMark(a, a))).toBeNull();
  });

  it('a burst replaces the click classes by those the clicks have now and keeps the opens', () => {
    const before = markOf('open', 'human') | markOf('click', 'human');
    expect(afterBurst(before, { human: false, machine: true })).toBe(markOf('open', 'human') | markOf('click', 'machine'));
    expect(afterBurst(before, { human: true, machine: true })).toBe(before | MARK.machineClick);
  });

  it('a first mark moves the recipient from nowhere; a changed one from its old count', () => {
    expect(markMove(0, MARK.anyOpen)).toEqual({ from: null, to: MARK.anyOpen });
    expect(markMove(MARK.anyOpen, MARK.anyOpen | MARK.humanOpen)).toEqual({ from: MARK.anyOpen, to: MARK.anyOpen | MARK.humanOpen });
  });
});
