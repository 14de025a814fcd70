/**
 * The campaign page's progress chart buckets, pure: shared by the dashboard's queries
 * (src/http/admin/dashboard-queries.ts) and ledger retention (which keeps a pruned campaign's
 * series), so the worker's retention job needs nothing from the HTTP/admin code.
 */
const MAX_BUCKETS = 60;

/** Pick a bucket width (ms) giving at most 60 points over the span. */
export function bucketWidth(spanMs: number): number {
  return Math.max(1000, Math.ceil(spanMs / MAX_BUCKETS / 1000) * 1000);
}
