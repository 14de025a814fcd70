/**
 * Group commit for the 'sent' writes: the send processor hands each accepted message's
 * ledger write here and awaits it; writes that arrive within `maxDelayMs` of each other
 * (or `maxRows` of them) go to the database in one statement (no open transaction a frozen
 * worker could hold locks with). The job still completes
 * only after its row is written, so crash semantics are unchanged: a worker killed before
 * the flush leaves the row 'sending', the existing "uncertain" case the reconciler settles
 * from SES Send events or the grace period. It only saves a commit per message.
 */
import type { ClaimToken, DeliveryLedger } from '../src/store/delivery-ledger.js';

interface PendingSent {
  campaignId: number;
  subscriberId: number;
  workerId: string;
  attempt: number;
  sesMessageId: string;
  now: number;
  resolve: (won: boolean) => void;
  reject: (err: unknown) => void;
}

export interface SentWriterOptions {
  /** Flush when this many rows are waiting. Default 64. */
  maxRows?: number;
  /** Flush at most this long after the first waiting row. Default 5 ms. */
  maxDelayMs?: number;
}

export class SentWriter {
  private pending: PendingSent[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly maxRows: number;
  private readonly maxDelayMs: number;

  constructor(
    private readonly ledger: Pick<DeliveryLedger, 'markSentMany'>,
    options: SentWriterOptions = {},
  ) {
    this.maxRows = options.maxRows ?? 64;
    this.maxDelayMs = options.maxDelayMs ?? 5;
  }

  /** Resolves once the row is written (true if this worker's claim won), rejects if the write failed. */
  markSent(campaignId: number, subscriberId: number, token: ClaimToken, sesMessageId: string, now = Date.now()): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.pending.push({ campaignId, subscriberId, workerId: token.workerId, attempt: token.attempt, sesMessageId, now, resolve, reject });
      if (this.pending.length >= this.maxRows) void this.flush();
      else if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.maxDelayMs);
    });
  }

  /** Write everything waiting now; resolves when it (and any earlier flush) is done. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.pending;
    this.pending = [];
    // Flushes run one after another, so a row's write never overtakes an earlier one.
    this.flushing = this.flushing.then(async () => {
      if (batch.length === 0) return;
      try {
        const won = await this.ledger.markSentMany(batch);
        batch.forEach((p, i) => p.resolve(won[i]!));
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    });
    return this.flushing;
  }
}
