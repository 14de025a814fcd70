/**
 * Batched claims: the send processor's claims (DeliveryLedger.claimIfMailable) that arrive
 * within `maxDelayMs` of each other, or `maxRows` of them, for the same campaign, go to the
 * database together (`claimManyIfMailable`: one conditional update and one re-check for the
 * whole batch) instead of two statements each.
 *
 * Nothing about a claim changes but the statement count: each row is still claimed only if it
 * is queued, unconfirmed and still mailable, by a conditional update only one worker anywhere
 * can win; the claim's lease starts at the claimed_at the statement wrote (the same value the
 * caller's deadline is computed from), so the fence and the reconciler's cutoff are unchanged.
 * A claim waits at most `maxDelayMs` for its batch, and never past `roomMs` before its
 * permit's slot. The send processor claims in the lead its rate-limit permit gives it before
 * the slot (50 ms, send-processor.ts), so the wait does not move when the message goes out,
 * which is the slot; it only gathers more claims per statement (at 500/s, 10 ms instead of 2 ms
 * made a third as many statements and cut the worker's CPU per message by about a tenth,
 * bench/results/send.md, session 12). A permit whose slot is already due (a campaign sending as
 * fast as the workers can, the limiter far above it) has no lead to wait in: its batch goes at
 * the next timer tick with the claims that came with it, since every millisecond there holds
 * one of the worker's concurrency slots (session 14: about 2.5% more end to end at full speed,
 * eight interleaved runs, bench/results/send.md). A failed statement fails every claim in it
 * (nothing was claimed: the rows stay queued, their jobs retry).
 */
import type { ClaimedDelivery, DeliveryLedger } from '../src/store/delivery-ledger.js';

interface PendingClaim {
  subscriberId: number;
  resolve: (claimed: ClaimedDelivery | null) => void;
  reject: (err: unknown) => void;
}

interface Batch {
  campaignId: number;
  listId: number;
  claims: PendingClaim[];
  timer: NodeJS.Timeout | null;
  /** When the timer runs the statement, on performance.now()'s clock. */
  due: number;
}

export interface ClaimBatcherOptions {
  /** Run the statement when this many claims are waiting. Default 32. */
  maxRows?: number;
  /** Run it at most this long after the first waiting claim. Default 10 ms (inside the permit's lead). */
  maxDelayMs?: number;
  /**
   * Run it at least this long before the earliest slot of the claims' permits, for the
   * statement itself, the MIME build and the SDK's signing. Default 20 ms.
   */
  roomMs?: number;
}

export class ClaimBatcher {
  private readonly batches = new Map<string, Batch>();
  private readonly maxRows: number;
  private readonly maxDelayMs: number;
  private readonly roomMs: number;

  constructor(
    private readonly ledger: Pick<DeliveryLedger, 'claimManyIfMailable'>,
    private readonly workerId: string,
    options: ClaimBatcherOptions = {},
  ) {
    this.maxRows = options.maxRows ?? 32;
    this.maxDelayMs = options.maxDelayMs ?? 10;
    this.roomMs = options.roomMs ?? 20;
  }

  /**
   * Same contract as `DeliveryLedger.claimIfMailable` for this worker: the claimed row, or null.
   * `slotAt`: the slot of the caller's rate-limit permit (performance.now()'s clock), which the
   * claim's wait for company must leave `roomMs` before.
   */
  claimIfMailable(campaignId: number, subscriberId: number, listId: number, slotAt = Number.POSITIVE_INFINITY): Promise<ClaimedDelivery | null> {
    return new Promise((resolve, reject) => {
      const key = `${campaignId}/${listId}`;
      const now = performance.now();
      const due = Math.min(now + this.maxDelayMs, slotAt - this.roomMs);
      let batch = this.batches.get(key);
      if (!batch) {
        batch = { campaignId, listId, claims: [], timer: null, due: Number.POSITIVE_INFINITY };
        this.batches.set(key, batch);
      }
      batch.claims.push({ subscriberId, resolve, reject });
      if (batch.claims.length >= this.maxRows) {
        this.run(key, batch);
        return;
      }
      if (due < batch.due) {
        // The first claim, or one whose slot is nearer than the batch's timer: (re)arm it.
        const b = batch;
        if (b.timer) clearTimeout(b.timer);
        b.due = due;
        b.timer = setTimeout(() => this.run(key, b), Math.max(0, due - now));
      }
    });
  }

  private run(key: string, batch: Batch): void {
    if (this.batches.get(key) !== batch) return;
    this.batches.delete(key);
    if (batch.timer) clearTimeout(batch.timer);
    // The same subscriber twice in one batch (two jobs of one row): one statement claims it once;
    // the first caller gets the row, the other null, as two statements in a row would do.
    const ids = [...new Set(batch.claims.map((c) => c.subscriberId))];
    this.ledger.claimManyIfMailable(batch.campaignId, ids, batch.listId, this.workerId).then(
      (claimed) => {
        for (const c of batch.claims) {
          const row = claimed.get(c.subscriberId) ?? null;
          claimed.delete(c.subscriberId);
          c.resolve(row);
        }
      },
      (err: unknown) => {
        for (const c of batch.claims) c.reject(err);
      },
    );
  }
}
