/**
 * When a worker asks the orchestrator whether a campaign is finished (sending → sent once the
 * fan-out is done and no row is queued or in flight: CampaignOrchestrator.checkCompletion).
 *
 * A campaign can only become finished when a row of it settles; the last row to settle, anywhere
 * in the fleet, is settled by one worker, and at that moment that worker has no job of the
 * campaign left in hand. So:
 *  - while this process still has jobs of the campaign, a settled row asks for a check at most
 *    `busyMs` later (a few count queries per second, whatever the send rate);
 *  - when this process's last job of the campaign ends, the check comes within `idleMs`: the
 *    campaign shows 'sent' as soon as its last message is recorded, instead of up to `busyMs`
 *    later (issue #15: the end-to-end rate of a 10,000-message send counts that wait).
 * A pending check is only ever brought forward, never pushed back, so a steady stream of pokes
 * cannot starve it. A check that comes too early answers false and costs two small queries.
 */
export interface CompletionChecksOptions {
  /** Delay of a check asked for while jobs of the campaign are still running here. Default 250 ms. */
  busyMs?: number;
  /** Delay of the check asked for when the last of them ends. Default 10 ms. */
  idleMs?: number;
  /** Told about a check that failed (it is not retried: the next poke, or the reconciler's sweep, asks again). */
  onError?: (err: unknown, campaignId: number) => void;
}

export class CompletionChecks {
  private readonly pending = new Map<number, { timer: NodeJS.Timeout; due: number }>();
  private readonly jobs = new Map<number, number>();
  private readonly busyMs: number;
  private readonly idleMs: number;

  constructor(
    private readonly check: (campaignId: number) => Promise<unknown>,
    private readonly options: CompletionChecksOptions = {},
  ) {
    this.busyMs = options.busyMs ?? 250;
    this.idleMs = options.idleMs ?? 10;
  }

  /** A row of the campaign settled (sent, failed, skipped). */
  settled(campaignId: number): void {
    this.ask(campaignId, this.busyMs);
  }

  /** A job of the campaign starts here; pair with `jobEnded`. */
  jobStarted(campaignId: number): void {
    this.jobs.set(campaignId, (this.jobs.get(campaignId) ?? 0) + 1);
  }

  /** A job of the campaign ended (done, retried or failed); the last one asks for a check soon. */
  jobEnded(campaignId: number): void {
    const left = (this.jobs.get(campaignId) ?? 1) - 1;
    if (left > 0) {
      this.jobs.set(campaignId, left);
      return;
    }
    this.jobs.delete(campaignId);
    this.ask(campaignId, this.idleMs);
  }

  close(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }

  private ask(campaignId: number, delayMs: number): void {
    const due = Date.now() + delayMs;
    const existing = this.pending.get(campaignId);
    if (existing) {
      if (existing.due <= due) return;
      clearTimeout(existing.timer);
    }
    const timer = setTimeout(() => {
      this.pending.delete(campaignId);
      this.check(campaignId).catch((err: unknown) => this.options.onError?.(err, campaignId));
    }, delayMs);
    timer.unref();
    this.pending.set(campaignId, { timer, due });
  }
}
