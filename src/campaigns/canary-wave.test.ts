import { describe, expect, it } from 'vitest';
import { canaryView, canaryWaveSize, decideCanary, describeCanary, parseCanaryPercent } from './canary-wave.js';
import { canAdvanceCanary, isCanaryHolding } from './state-machine.js';
import { describePause } from './pause-reason.js';

const breaker = { BOUNCE_RATE_LIMIT: 0.05, COMPLAINT_RATE_LIMIT: 0.001, BREAKER_MIN_DELIVERIES: 100 };

describe('canary wave', () => {
  it('reads a share as 5%, 5 or 0.5%, and refuses anything else naming the value', () => {
    expect(parseCanaryPercent('5%')).toBe(5);
    expect(parseCanaryPercent(' 10 ')).toBe(10);
    expect(parseCanaryPercent('0.5%')).toBe(0.5);
    expect(parseCanaryPercent(0)).toBe(0);
    for (const bad of ['150%', '-1', 'five', '5%%', '']) expect(() => parseCanaryPercent(bad)).toThrow(/is not a percentage/);
  });

  it('sizes the wave as ceil(total × p), at least one, at most everybody; none without a share or an audience', () => {
    expect(canaryWaveSize(44, 10)).toBe(5);
    expect(canaryWaveSize(1000, 5)).toBe(50);
    expect(canaryWaveSize(3, 1)).toBe(1);
    expect(canaryWaveSize(10, 100)).toBe(10);
    expect(canaryWaveSize(10, 0)).toBe(0);
    expect(canaryWaveSize(10, null)).toBe(0);
    expect(canaryWaveSize(0, 5)).toBe(0);
  });

  it('pauses on the breaker thresholds over the wave alone (its minimum capped at the wave), naming the rate', () => {
    const bounced = decideCanary({ byStatus: { sent: 1, bounced: 4 }, firstError: null }, breaker, 0, 10);
    expect(bounced).toEqual({ kind: 'pause', note: 'wave bounce rate 80.00% (4/5) reached the limit 5.00%' });
    const complained = decideCanary({ byStatus: { delivered: 49, complained: 1 }, firstError: null }, breaker, 0, 10);
    expect(complained).toMatchObject({ kind: 'pause', note: expect.stringMatching(/^wave complaint rate 2\.00% \(1\/50\)/) });
    // Under the limits: hold until the deadline, then release.
    const clean = { byStatus: { delivered: 99, bounced: 1 }, firstError: null };
    expect(decideCanary(clean, breaker, 9, 10)).toEqual({ kind: 'hold' });
    expect(decideCanary(clean, breaker, 10, 10)).toEqual({ kind: 'release' });
  });

  it('pauses on any failed wave message (reject, rendering failure), quoting the first', () => {
    const d = decideCanary({ byStatus: { sent: 9, failed: 1 }, firstError: 'MessageRejected: Email address is not verified.' }, breaker, 100, 10);
    expect(d).toEqual({ kind: 'pause', note: "1 of the wave's messages failed (rejected or not rendered): MessageRejected: Email address is not verified." });
    expect(describePause('canary', d.kind === 'pause' ? d.note : null)).toMatch(/^canary wave failed its check.*: 1 of the wave's messages failed/);
  });

  it('shows the phase and the time left', () => {
    const v = canaryView(
      { canary_percent: 10, canary_size: 5, canary_phase: 'waiting', canary_wait_ms: 60_000, canary_until: 100_000 },
      { byStatus: { delivered: 5 }, firstError: null },
      58_500,
    )!;
    expect(v).toEqual({ percent: 10, size: 5, phase: 'waiting', wait_s: 60, wait_until: new Date(100_000).toISOString(), seconds_left: 42, sent: 5, bounced: 0, complained: 0, failed: 0 });
    expect(describeCanary(v)).toMatch(/^canary 10% \(5 recipient\(s\)\): holding the rest, 42 s left/);
    expect(canaryView({ canary_percent: null, canary_size: null, canary_phase: null, canary_wait_ms: null, canary_until: null }, { byStatus: {}, firstError: null }, 0)).toBeNull();
  });

  it('phases move only forward: selecting → wave → waiting → released', () => {
    expect(canAdvanceCanary('selecting', 'wave')).toBe(true);
    expect(canAdvanceCanary('wave', 'waiting')).toBe(true);
    expect(canAdvanceCanary('waiting', 'released')).toBe(true);
    expect(canAdvanceCanary('released', 'waiting')).toBe(false);
    expect(canAdvanceCanary('selecting', 'released')).toBe(false);
    expect(canAdvanceCanary(null, 'released')).toBe(false);
    expect(isCanaryHolding('waiting')).toBe(true);
    expect(isCanaryHolding('released')).toBe(false);
    expect(isCanaryHolding(null)).toBe(false);
  });
});
