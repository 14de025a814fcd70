/**
 * What the workspace's send confirmation says, pure: the audience, the send rate and how
 * long the send takes at that rate ("2,431 subscribers at 14/s ≈ 2 min 54 s"). The rate is
 * the fleet's (SEND_RATE, else SES MaxSendRate, else 14/s), so this is a lower bound: a
 * throttled or paused send takes longer.
 */

export interface SendEstimate {
  recipients: number;
  ratePerSecond: number;
  /** Whole seconds, rounded up (a started second counts). */
  seconds: number;
  text: string;
  /** When the audience was counted (epoch ms), where the count may be older than the request (audience-sizes.ts). */
  countedAt?: number;
}

/** "2 min 54 s", "1 h 0 min 5 s", "0 s". */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.ceil(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h} h ${m} min ${rest} s`;
  if (m > 0) return `${m} min ${rest} s`;
  return `${rest} s`;
}

const count = new Intl.NumberFormat('en-US');

export function estimateSend(recipients: number, ratePerSecond: number): SendEstimate {
  if (!(ratePerSecond > 0)) throw new RangeError(`send rate must be positive, got ${ratePerSecond}`);
  const n = Math.max(0, Math.floor(recipients));
  const seconds = Math.ceil(n / ratePerSecond);
  const rate = Number.isInteger(ratePerSecond) ? String(ratePerSecond) : ratePerSecond.toFixed(1);
  const who = `${count.format(n)} subscriber${n === 1 ? '' : 's'}`;
  return { recipients: n, ratePerSecond, seconds, text: n === 0 ? `${who}: nothing to send` : `${who} at ${rate}/s ≈ ${formatDuration(seconds)}` };
}
