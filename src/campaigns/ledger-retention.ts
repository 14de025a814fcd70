/**
 * Retention policy (LEDGER_RETENTION_DAYS): finished campaigns (sent or cancelled) whose
 * finished_at is more than N days ago keep their totals, clicks per link and every
 * suppression, and lose their per-recipient ledger and event rows. A campaign that is
 * scheduled, sending or paused is never a candidate (the store selects only sent/cancelled).
 *
 * Order per campaign: persist totals (once; a resumed prune reuses the first snapshot and its
 * events cutoff) → delete ledger rows in batches → delete event rows in batches → mark pruned.
 * Between batches the job yields (`pauseMs`), so sends and webhooks are never queued behind a
 * long delete. Event rows are deleted only before a cutoff clamped by the SNS replay window
 * (`clampEventsPruneCutoff`): a MessageId SNS may still deliver stays remembered.
 *
 * A late event for a row already deleted finds no row and changes nothing (the prune keeps the
 * snapshot taken when it started); campaigns finished N days ago get none in practice.
 */
import { clampEventsPruneCutoff } from '../events/sns-replay-window.js';
import { bucketWidth } from './progress-buckets.js';
import type { LedgerRetentionRepository, PruneCandidate } from '../store/ledger-retention-repository.js';

const DAY_MS = 86_400_000;

export interface RetentionOptions {
  retentionDays: number;
  snsMaxAgeS: number;
  /** Rows per DELETE statement (default 5,000). */
  batchSize?: number;
  /** Pause between two batches, ms (default 5). */
  pauseMs?: number;
  /** Same as the stats' uncertainty threshold (uncertainAfterMs). */
  uncertainAfterMs: number;
}

export interface RetentionCutoffs {
  /** Campaigns finished before this are pruned. */
  finishedBefore: number;
  /** Event rows created before this may go; null = none may (no SNS age bound). */
  eventsCutoff: number | null;
}

/** Pure: the cutoffs for a run at `now`. */
export function retentionCutoffs(now: number, retentionDays: number, snsMaxAgeS: number): RetentionCutoffs {
  const finishedBefore = now - retentionDays * DAY_MS;
  return { finishedBefore, eventsCutoff: clampEventsPruneCutoff(finishedBefore, now, snsMaxAgeS) };
}

export interface PlannedPrune extends PruneCandidate {
  ledgerRows: number;
  events: number;
  /** Links whose click counts would be persisted. */
  links: number;
}

export interface PrunedCampaign {
  id: number;
  ledgerRows: number;
  events: number;
  batches: number;
}

export type RetentionStore = Pick<
  LedgerRetentionRepository,
  'candidates' | 'removable' | 'persistTotals' | 'deleteLedgerBatch' | 'deleteEngagementMarksBatch' | 'deleteEventsBatch' | 'markPruned'
>;

export class LedgerRetention {
  private readonly batchSize: number;
  private readonly pauseMs: number;

  constructor(
    private readonly store: RetentionStore,
    private readonly options: RetentionOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.batchSize = options.batchSize ?? 5000;
    this.pauseMs = options.pauseMs ?? 5;
  }

  /** What a prune would remove now, per campaign (`store prune --dry-run`). Deletes nothing. */
  async plan(): Promise<PlannedPrune[]> {
    const { finishedBefore, eventsCutoff } = retentionCutoffs(this.now(), this.options.retentionDays, this.options.snsMaxAgeS);
    const out: PlannedPrune[] = [];
    for (const c of await this.store.candidates(finishedBefore)) out.push({ ...c, ...(await this.store.removable(c.id, eventsCutoff)) });
    return out;
  }

  /**
   * Prune every candidate. `keepGoing` is asked before each batch (a stopping worker, a lost
   * lock): false stops between batches, and the next run resumes where this one stopped.
   */
  async prune(hooks: { keepGoing?: () => boolean | Promise<boolean>; onCampaign?: (p: PrunedCampaign) => void } = {}): Promise<PrunedCampaign[]> {
    const now = this.now();
    const { finishedBefore, eventsCutoff } = retentionCutoffs(now, this.options.retentionDays, this.options.snsMaxAgeS);
    const done: PrunedCampaign[] = [];
    const keepGoing = async () => (hooks.keepGoing ? await hooks.keepGoing() : true);
    for (const c of await this.store.candidates(finishedBefore)) {
      if (!(await keepGoing())) break;
      const seriesWidth = c.startedAt === null ? null : bucketWidth(Math.max(1000, c.finishedAt - c.startedAt));
      const snapshot = await this.store.persistTotals(
        c.id,
        { uncertainBefore: now - this.options.uncertainAfterMs, startedAt: c.startedAt, seriesWidth, eventsCutoff },
        now,
      );
      const result: PrunedCampaign = { id: c.id, ledgerRows: 0, events: 0, batches: 0 };
      let stopped = false;
      const drain = async (batch: () => Promise<number>, add: (n: number) => void) => {
        for (;;) {
          if (!(await keepGoing())) return (stopped = true), undefined;
          const n = await batch();
          result.batches++;
          add(n);
          if (n < this.batchSize) return;
          await new Promise((resolve) => setTimeout(resolve, this.pauseMs));
        }
      };
      await drain(() => this.store.deleteLedgerBatch(c.id, this.batchSize), (n) => (result.ledgerRows += n));
      if (!stopped) await drain(() => this.store.deleteEngagementMarksBatch(c.id, this.batchSize), () => {});
      if (!stopped && snapshot.eventsCutoff !== null) {
        const cutoff = snapshot.eventsCutoff;
        await drain(() => this.store.deleteEventsBatch(c.id, cutoff, this.batchSize), (n) => (result.events += n));
      }
      if (stopped) break;
      await this.store.markPruned(c.id, this.now());
      hooks.onCampaign?.(result);
      done.push(result);
    }
    return done;
  }
}
