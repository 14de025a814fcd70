/**
 * Durations on the command line (`tokens create --expires 90d`): a positive whole number
 * and a unit, s (seconds), m (minutes), h (hours), d (days) or w (weeks).
 */
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3600_000, d: 86400_000, w: 7 * 86400_000 };

/** Milliseconds in `text`, or null when it is not a duration. */
export function parseDuration(text: string): number | null {
  const m = /^\s*(\d{1,6})\s*([smhdw])\s*$/.exec(text);
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms > 0 ? ms : null;
}
