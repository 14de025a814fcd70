/**
 * Rate measurements over a list of event timestamps (grants, sends, messages the
 * SES simulator accepted). Pure functions, shared by tests and benchmarks.
 */

/**
 * The largest number of timestamps that fall in any half-open window
 * [a, a + windowMs), over every possible start a. This is the "worst sliding
 * second" the send rate is judged by: a window may start anywhere, not only on a
 * second boundary, which is exactly where fixed-window limiters let 2x through.
 *
 * Order of the input does not matter; the input is not modified.
 */
export function worstSlidingWindow(timestampsMs: readonly number[], windowMs = 1000): number {
  if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${windowMs}`);
  const ts = [...timestampsMs].sort((a, b) => a - b);
  let worst = 0;
  let start = 0;
  for (let end = 0; end < ts.length; end++) {
    // A window that contains ts[end] as its last point can start at most at ts[start]
    // where ts[end] - ts[start] < windowMs.
    while ((ts[end] as number) - (ts[start] as number) >= windowMs) start++;
    worst = Math.max(worst, end - start + 1);
  }
  return worst;
}

/**
 * Average rate in events per second between the first and the last timestamp:
 * (n - 1) intervals over the span. 0 for fewer than two timestamps.
 */
export function averageRate(timestampsMs: readonly number[]): number {
  if (timestampsMs.length < 2) return 0;
  let min = Infinity;
  let max = -Infinity;
  for (const t of timestampsMs) {
    if (t < min) min = t;
    if (t > max) max = t;
  }
  return max > min ? ((timestampsMs.length - 1) * 1000) / (max - min) : Infinity;
}
