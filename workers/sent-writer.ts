/**
 * Group commit for the 'sent' writes: the send processor hands each accepted message's
 * ledger write here and awaits it; writes that arrive within `maxDelayMs` of each other
 * (or `maxRows` of them) go to the database in one statement (no open transaction a frozen
 * worker could hold locks with). The job still completes
 * only after its row is written, so crash semantics are unchanged: a worker killed before
 * the flush leaves the row 'sending', the existing "uncertain" case the reconciler settles
 * from SES Send events or the grace period. It only saves a commit per message.
 *
 * SES has accepted every message handed here, so a write is never dropped: if the database
 * is unreachable (restart, failover, network), the batch is kept and retried with backoff
 * until it is written. The SES Send event is not the only record of the send — its webhook
 * may be failing for the same outage, and SNS gives up eventually. Only a shutdown bounds the
 * wait (`drain`): what is still unwritten then is handed to a spill (sent-spill.ts, in Redis)
 * that the next worker replays, so SIGTERM during an outage loses nothing either.
 */
import type { ClaimToken, DeliveryLedger, SentRow } from '../src/store/delivery-ledger.js';

/** One accepted send waiting for its ledger write: the ledger's own row shape. */
export type AcceptedSend = SentRow;

interface PendingSent extends AcceptedSend {
  resolve: (won: boolean) => void;
  reject: (err: unknown) => void;
}

export interface SentWriterOptions {
  /** Flush when this many rows are waiting. Default 64. */
  maxRows?: number;
  /** Flush at most this long after the first waiting row. Default 5 ms. */
  maxDelayMs?: number;
  /** First retry delay after a failed write (doubles up to `retryMaxMs`). Default 100 ms. */
  retryInitialMs?: number;
  /** Longest retry delay. Default 2000 ms. */
  retryMaxMs?: number;
  /** Told of every failed attempt (the batch is kept and retried). */
  onWriteError?: (err: unknown, info: { rows: number; attempt: number; retryInMs: number }) => void;
}

export class SentWriter {
  private pending: PendingSent[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly maxRows: number;
  private readonly maxDelayMs: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  /** Set by giveUpAfter(): retries stop at this time and unwritten rows go to `spill`. */
  private giveUpAt: number | null = null;
  private spill: ((rows: AcceptedSend[]) => Promise<void>) | null = null;
  private wakeRetry: (() => void) | null = null;
  private inFlight = 0;

  constructor(
    private readonly ledger: Pick<DeliveryLedger, 'markSentMany'>,
    private readonly options: SentWriterOptions = {},
  ) {
    this.maxRows = options.maxRows ?? 64;
    this.maxDelayMs = options.maxDelayMs ?? 5;
    this.retryInitialMs = options.retryInitialMs ?? 100;
    this.retryMaxMs = options.retryMaxMs ?? 2000;
  }

  /**
   * Resolves once the row is written (true if this worker's claim won). A failed write is
   * retried, not reported; after drain() gave up, resolves true once the row is in the spill.
   */
  markSent(campaignId: number, subscriberId: number, token: ClaimToken, sesMessageId: string, now = Date.now()): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.pending.push({ campaignId, subscriberId, workerId: token.workerId, attempt: token.attempt, sesMessageId, now, resolve, reject });
      if (this.pending.length >= this.maxRows) void this.flush();
      else if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.maxDelayMs);
    });
  }

  /** Rows accepted by SES and not yet written (waiting or being retried). */
  get backlog(): number {
    return this.pending.length + this.inFlight;
  }

  /** Write everything waiting now; resolves when it (and any earlier flush) is done. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.pending;
    this.pending = [];
    this.inFlight += batch.length;
    // Flushes run one after another, so a row's write never overtakes an earlier one.
    this.flushing = this.flushing.then(async () => {
      try {
        if (batch.length > 0) await this.writeWithRetry(batch);
      } finally {
        this.inFlight -= batch.length;
      }
    });
    return this.flushing;
  }

  private async writeWithRetry(batch: PendingSent[]): Promise<void> {
    let delay = this.retryInitialMs;
    for (let attempt = 1; ; attempt++) {
      if (this.giveUpAt !== null && Date.now() >= this.giveUpAt && attempt > 1) return this.spillBatch(batch);
      try {
        const won = await this.ledger.markSentMany(batch);
        batch.forEach((p, i) => p.resolve(won[i]!));
        return;
      } catch (err) {
        this.options.onWriteError?.(err, { rows: batch.length, attempt, retryInMs: delay });
        await this.pause(delay);
        delay = Math.min(delay * 2, this.retryMaxMs);
      }
    }
  }

  /** Sleep `ms`, cut short when drain() sets a deadline that comes sooner. */
  private pause(ms: number): Promise<void> {
    const until = this.giveUpAt === null ? ms : Math.max(0, Math.min(ms, this.giveUpAt - Date.now()));
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, until);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wakeRetry = () => {
        this.wakeRetry = null;
        done();
      };
    });
  }

  /**
   * For shutdown: from now on a write still failing `timeoutMs` from now is handed to `spill`
   * (which must keep it durably; the next worker replays it) instead of being retried, and its
   * sender is resolved. If the spill fails too, the sender is rejected with that error (the row
   * stays 'sending': the reconciler's uncertain case). Then flush() resolves in bounded time.
   */
  giveUpAfter(timeoutMs: number, spill: (rows: AcceptedSend[]) => Promise<void>): void {
    this.giveUpAt = Date.now() + timeoutMs;
    this.spill = spill;
    this.wakeRetry?.();
  }

  private async spillBatch(batch: PendingSent[]): Promise<void> {
    try {
      await this.spill!(batch.map(({ campaignId, subscriberId, workerId, attempt, sesMessageId, now }) => ({ campaignId, subscriberId, workerId, attempt, sesMessageId, now })));
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    for (const p of batch) p.resolve(true);
  }
}
