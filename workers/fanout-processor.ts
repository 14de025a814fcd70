/**
 * Fan-out: pages through a campaign's frozen audience by keyset, writes ledger rows
 * 'queued' and adds one send job per batch of SEND_BATCH subscribers (each row records its
 * batch, so a requeue rebuilds the same job), in windows, so the number of waiting
 * recipients in Redis stays bounded however large the list (Redis memory does not grow
 * with it). When the window is full the job delays itself and continues later from the
 * cursor stored in the campaign row, never from job data.
 *
 * Canary wave (src/campaigns/canary-wave.ts). A campaign with a wave is fanned out in two
 * goes: first the wave (phase `selecting`: the orchestrator writes all of the wave's ledger
 * rows, flagged `wave`, in one transaction with the phase move; their jobs are added from the
 * ledger's queued rows), then nothing until the worker's sweep releases the rest (phase
 * `released`); from then on the ordinary keyset pages run with wave members left out.
 * Exactly-once across the waves: a subscriber has one ledger row per campaign (primary key
 * (campaign, subscriber)); the wave's are written once, whole; the remainder's pages exclude
 * subscribers that have a wave row, so they add neither a row nor a job for them; and a send
 * happens only through the one conditional claim of that row (DeliveryLedger.claim), however
 * often a job for it is added (replayed pages, restarted fan-outs, the reconciler's requeue).
 *
 * The audience's size: `start` counts it only for a canary. Otherwise the first page goes out
 * uncounted and the fan-out counts the frozen audience right after enqueueing that page's
 * sends, filling `campaigns.total` in once (CampaignsRepository.fillTotal, conditional on
 * `total_known` 0). The count reads only; it writes no ledger row and adds no job, so it
 * changes nothing of the above.
 */
import { DelayedError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { AudienceSource } from '../src/campaigns/ports.js';
import type { CampaignsRepository } from '../src/store/campaigns-repository.js';
import type { DeliveryLedger } from '../src/store/delivery-ledger.js';
import { batchesOfRows, enqueueSends, formBatches, SEND_BATCH, wholeBatchPage, type FanoutJobData, type SendQueues } from '../src/queue/send-queues.js';
import { isCanaryHolding, isSending } from '../src/campaigns/state-machine.js';
import { audienceOf, type CampaignOrchestrator } from '../src/campaigns/campaign-orchestrator.js';
import type { Campaign } from '../src/store/schema.js';

export interface FanoutOptions {
  /** Upper bound of waiting recipients (default 10,000), counted as waiting send jobs × the batch size. */
  window?: number;
  /** Recipients per send job (default SEND_BATCH). */
  batchSize?: number;
  /** Page size once running (default 1,000); the first page is small so the first send starts at once. */
  pageSize?: number;
  firstPageSize?: number;
  /** How long to wait when the window is full (ms). */
  windowWaitMs?: number;
}

export interface FanoutDeps {
  campaigns: CampaignsRepository;
  ledger: DeliveryLedger;
  audience: AudienceSource;
  queues: SendQueues;
  logger?: Logger;
  onFanoutDone?: (campaignId: number) => void;
  /** Writes a canary wave (campaign state: the orchestrator's). Required for campaigns with a canary. */
  canary?: Pick<CampaignOrchestrator, 'writeCanaryWave'>;
}

export function createFanoutProcessor(deps: FanoutDeps, options: FanoutOptions = {}) {
  const window = options.window ?? 10_000;
  const pageSize = options.pageSize ?? 1000;
  const firstPageSize = options.firstPageSize ?? 50;
  const windowWaitMs = options.windowWaitMs ?? 250;
  const batchSize = options.batchSize ?? SEND_BATCH;

  /** Waiting recipients, counting every waiting job as a full batch (an upper bound). */
  async function waitingSends(): Promise<number> {
    const counts = await deps.queues.send.getJobCounts('wait', 'prioritized', 'delayed');
    return Object.values(counts).reduce((a, b) => a + b, 0) * batchSize;
  }

  async function delay(job: Job<FanoutJobData>, token: string | undefined): Promise<never> {
    await job.moveToDelayed(Date.now() + windowWaitMs, token);
    throw new DelayedError();
  }

  /** Re-add jobs for the campaign's queued rows, from the cursor in job data; false if it stopped sending. */
  async function requeueQueued(job: Job<FanoutJobData>, token: string | undefined): Promise<boolean> {
    const { campaignId } = job.data;
    while (job.data.requeue) {
      const c = await deps.campaigns.status(campaignId);
      if (!c || !isSending(c.status)) return false;
      if ((await waitingSends()) >= window) await delay(job, token);
      const { after, updatedBefore } = job.data.requeue;
      // Whole batches only: a batch cut by the page end goes with the next page.
      const page = wholeBatchPage(await deps.ledger.queuedPage(campaignId, after, pageSize, updatedBefore), pageSize);
      await enqueueSends(deps.queues.send, campaignId, batchesOfRows(page.rows));
      const next = page.after === undefined ? undefined : { after: page.after, updatedBefore };
      await job.updateData({ campaignId, ...(next ? { requeue: next } : {}) });
    }
    return true;
  }

  async function fillTotal(campaignId: number, c: Campaign): Promise<void> {
    const total = await deps.audience.audienceCount(audienceOf(c));
    if (await deps.campaigns.fillTotal(campaignId, total)) deps.logger?.info({ campaignId, total }, 'audience counted');
  }

  return async function processFanout(job: Job<FanoutJobData>, token?: string): Promise<string> {
    const { campaignId } = job.data;
    // Phase 1: re-add the jobs of rows that are queued in the ledger (handed back while
    // paused, or lost with Redis). Existing job ids make this a no-op for live jobs.
    if (!(await requeueQueued(job, token))) return 'not-sending';

    // Phase 2: the audience, from the stored cursor.
    let first = true;
    for (;;) {
      const c = await deps.campaigns.get(campaignId);
      if (!c || !isSending(c.status)) return 'not-sending';
      if (c.fanout_done) {
        // A safety net: the page that finishes fills `total` in before it moves the cursor.
        if (c.total_known === 0) await fillTotal(campaignId, c);
        return 'done';
      }
      if (isCanaryHolding(c.canary_phase)) {
        if (c.canary_phase === 'selecting') {
          if (!deps.canary) throw new Error(`campaign ${campaignId} has a canary wave but this fan-out cannot write one`);
          await deps.canary.writeCanaryWave(campaignId);
        }
        // The wave's rows are in the ledger: add their jobs (again, after a crash: idempotent),
        // then stop. The sweep releases the rest (a new fan-out job) when the wait passes.
        await job.updateData({ campaignId, requeue: { after: 0 } });
        if (!(await requeueQueued(job, token))) return 'not-sending';
        return 'canary-holding';
      }
      if ((await waitingSends()) >= window) await delay(job, token);
      const limit = first && c.fanout_cursor === 0 ? firstPageSize : pageSize;
      first = false;
      const page = await deps.audience.audiencePage({
        listId: c.list_id,
        afterId: c.fanout_cursor,
        limit,
        maxSubscriberId: c.audience_max_subscriber_id ?? undefined,
        joinedBefore: c.started_at ?? undefined,
        // After a canary's release: the wave already has its rows; leave its members out.
        ...(c.canary_phase === 'released' ? { excludeWaveOf: campaignId } : {}),
      });
      const batches = formBatches(page.map((m) => m.id), batchSize);
      const batchOf = new Map(batches.flatMap((b) => b.subscriberIds.map((id) => [id, b.batch] as const)));
      await deps.ledger.insertQueued(campaignId, page.map((m) => ({ subscriberId: m.id, email: m.email, sendBatch: batchOf.get(m.id) ?? null })));
      // A cancel that won after the status read above may have marked the queued rows before
      // this page was written: look again and mark them ourselves. (A cancel after this read
      // marks them itself: it changes the status first, then cancels the queued rows.)
      if ((await deps.campaigns.status(campaignId))?.status === 'cancelled') {
        await deps.ledger.cancelQueued(campaignId, Date.now());
        return 'not-sending';
      }
      await enqueueSends(deps.queues.send, campaignId, batches);
      // Started without counting its audience (the count is off the start path): count it
      // now, with the first page's sends already waiting, and fill `total` in once. Before the
      // cursor moves, so a crash in between replays this page (idempotent, above) and counts
      // again; fillTotal is conditional on the count still pending, so replays and a
      // superseded chain change nothing. The count only reads: it adds no row and no job.
      if (c.total_known === 0) await fillTotal(campaignId, c);
      const done = page.length < limit;
      const next = page.length > 0 ? page[page.length - 1]!.id : c.fanout_cursor;
      // The cursor CAS is the fan-out's own bookkeeping, not a status change, so it does not
      // go through the orchestrator: no lifecycle rule applies to it, and what it guards
      // (two fan-out chains of one campaign) is a question only this processor asks. A pause
      // racing it is harmless: the rows it just added stay queued (resume re-enqueues them)
      // and the next page sees the new status above; a racing cancel is handled just above.
      if (!(await deps.campaigns.advanceFanout(campaignId, c.fanout_cursor, next, done))) {
        deps.logger?.warn({ campaignId }, 'another fan-out advanced this campaign; stopping this one');
        return 'superseded';
      }
      if (done) {
        deps.onFanoutDone?.(campaignId);
        return 'done';
      }
    }
  };
}
