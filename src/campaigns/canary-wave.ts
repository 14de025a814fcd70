/**
 * Canary waves, pure: how big the first wave is, and — once it is out — whether the
 * campaign holds, releases the rest, or pauses. The phases and who may move them are in
 * state-machine.ts (`CANARY_PHASES`); the orchestrator moves them (the worker's sweep asks
 * `decideCanary` every second while a campaign holds); the fan-out writes the wave's ledger
 * rows first and the rest only after the release (workers/fanout-processor.ts).
 *
 * The wave is judged with the reputation breaker's own thresholds and pure function
 * (src/events/reputation-breaker.ts, BOUNCE_RATE_LIMIT / COMPLAINT_RATE_LIMIT) over the wave's
 * rows alone. The breaker's BREAKER_MIN_DELIVERIES is capped at the wave's size: the editor
 * chose the wave as the sample, so a wave smaller than the breaker's minimum is still judged.
 * Any failed wave row (SES Reject, Rendering Failure, MessageRejected, a message that could not
 * be built) pauses too: a broken issue must not go to everybody.
 */
import { decideBreaker, type BreakerConfig } from '../events/reputation-breaker.js';
import type { CanaryPhase } from './state-machine.js';
import type { DeliveryStatus } from '../store/schema.js';

export interface CanaryDefaults {
  /** Share of the audience in the first wave when the caller gives none; null/0 = no wave. */
  percent: number | null;
  /** How long the rest waits after the wave is out (ms). */
  waitMs: number;
  breaker: BreakerConfig;
}

/** The orchestrator's canary defaults from the configuration (CANARY_PERCENT, CANARY_WAIT_MIN, the breaker's thresholds). */
export function canaryDefaults(config: BreakerConfig & { CANARY_PERCENT?: number | undefined; CANARY_WAIT_MIN: number }): CanaryDefaults {
  return { percent: config.CANARY_PERCENT ?? null, waitMs: Math.round(config.CANARY_WAIT_MIN * 60_000), breaker: config };
}

/** `5%`, `5`, `0.5%` → 5, 5, 0.5; 0 / `0%` → 0 (no wave). Throws RangeError naming the value. */
export function parseCanaryPercent(value: string | number): number {
  const text = typeof value === 'number' ? String(value) : value.trim();
  const m = /^(\d+(?:\.\d+)?)\s*%?$/.exec(text);
  const n = m ? Number(m[1]) : Number.NaN;
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new RangeError(`canary "${value}" is not a percentage between 0% and 100% (e.g. 5%)`);
  return n;
}

/** Recipients in the wave: ceil(total × p / 100), at least 1 when there is anyone; 0 = no wave. */
export function canaryWaveSize(total: number, percent: number | null): number {
  if (!percent || percent <= 0 || total <= 0) return 0;
  return Math.min(total, Math.max(1, Math.ceil((total * percent) / 100)));
}

/** The wave's ledger rows by status (and the first failure's text, for the pause note). */
export interface WaveCounts {
  byStatus: Partial<Record<DeliveryStatus, number>>;
  firstError: string | null;
}

export type CanaryDecision =
  | { kind: 'hold' }
  | { kind: 'release' }
  | { kind: 'pause'; note: string };

const ACCEPTED: readonly DeliveryStatus[] = ['sent', 'delivered', 'bounced', 'complained'];

export function waveOutcomes(w: WaveCounts): { sent: number; bounced: number; complained: number; failed: number; open: number } {
  const n = (s: DeliveryStatus) => w.byStatus[s] ?? 0;
  return {
    sent: ACCEPTED.reduce((a, s) => a + n(s), 0),
    bounced: n('bounced'),
    complained: n('complained'),
    failed: n('failed'),
    open: n('queued') + n('sending'),
  };
}

/**
 * While `waiting`: pause as soon as the wave's rates cross the breaker's thresholds or a wave
 * message failed; release once `now` reaches `until` with the wave clean; hold otherwise.
 */
export function decideCanary(w: WaveCounts, config: BreakerConfig, now: number, until: number): CanaryDecision {
  const o = waveOutcomes(w);
  if (o.failed > 0) {
    return { kind: 'pause', note: `${o.failed} of the wave's messages failed (rejected or not rendered)${w.firstError ? `: ${w.firstError}` : ''}` };
  }
  const breaker = decideBreaker(o, { ...config, BREAKER_MIN_DELIVERIES: Math.max(1, Math.min(config.BREAKER_MIN_DELIVERIES, o.sent)) });
  if (breaker.trip) return { kind: 'pause', note: `wave ${breaker.reason}` };
  return now >= until ? { kind: 'release' } : { kind: 'hold' };
}

/** What stats, `campaigns show` and the dashboard show about the wave. */
export interface CanaryView {
  percent: number;
  size: number;
  phase: CanaryPhase;
  wait_s: number;
  /** ISO time the wait ends (set once the wave is out). */
  wait_until: string | null;
  /** Seconds of the wait left (0 once passed; null before the wave is out). */
  seconds_left: number | null;
  sent: number;
  bounced: number;
  complained: number;
  failed: number;
}

export function canaryView(
  c: { canary_percent: number | null; canary_size: number | null; canary_phase: CanaryPhase | null; canary_wait_ms: number | null; canary_until: number | null },
  w: WaveCounts,
  now: number,
): CanaryView | null {
  if (c.canary_phase === null || c.canary_percent === null) return null;
  const o = waveOutcomes(w);
  return {
    percent: c.canary_percent,
    size: c.canary_size ?? 0,
    phase: c.canary_phase,
    wait_s: Math.round((c.canary_wait_ms ?? 0) / 1000),
    wait_until: c.canary_until === null ? null : new Date(c.canary_until).toISOString(),
    seconds_left: c.canary_until === null ? null : Math.max(0, Math.ceil((c.canary_until - now) / 1000)),
    sent: o.sent,
    bounced: o.bounced,
    complained: o.complained,
    failed: o.failed,
  };
}

/** One line for people: "canary 10% (5 recipients): waiting, 42 s left — 5 sent, 0 bounced, 0 complained". */
export function describeCanary(v: CanaryView): string {
  const where =
    v.phase === 'selecting' ? 'choosing the wave'
      : v.phase === 'wave' ? 'sending the wave'
        : v.phase === 'waiting' ? `holding the rest, ${v.seconds_left ?? 0} s left (until ${v.wait_until})`
          : 'released: the rest goes out';
  return `canary ${v.percent}% (${v.size} recipient(s)): ${where}; wave ${v.sent} sent, ${v.bounced} bounced, ${v.complained} complained, ${v.failed} failed`;
}
