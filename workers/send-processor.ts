/**
 * One send job = up to SEND_BATCH subscribers of one campaign (src/queue/send-queues.ts), sent
 * side by side (at most `recipientConcurrency` at a time); each recipient goes through the same
 * steps as a job of its own would. The job is only the way recipients reach a worker: what makes
 * a send happen once is each recipient's claim, below. After the batch: recipients that must be
 * tried again (throttled, a transient error, a failure before the SES call) stay in the job,
 * whose data is narrowed to them, and the job is retried (throttled only: moved to delayed, no
 * attempt spent; otherwise an attempt with BullMQ's backoff); the others are done. A retry that
 * meets a recipient already sent finds its row not claimable ('not-queued'), so a job that runs
 * again after a crash (stalled) re-sends nobody. Per recipient, order matters:
 *   campaign still sending? → a global rate-limiter permit, woken a little before its slot →
 *   claim the ledger row if the subscriber is still mailable (a conditional update only one
 *   worker anywhere wins, then the re-check; the claims of jobs running together share both
 *   statements, claim-batcher.ts) → personalize + MIME (factory cached per campaign) → fence →
 *   SendRawEmail, whose request starts at the permit's slot → record 'sent' + SES message id.
 * The SES call and the 'sent' write are not atomic: a worker killed between them leaves
 * the row 'sending', which the reconciler settles from SES's Send event or resends after
 * UNCERTAIN_GRACE_S (see reconciler.ts).
 *
 * The fence (issue #17: a worker frozen after its claim must not send once the row was
 * requeued and sent by another). The claim is a lease that ends at
 * claimed_at + SES_REQUEST_TIMEOUT_S (`claimLeaseMs`); the ledger guarantees nobody else
 * takes the row back before lease end + UNCERTAIN_GRACE_S (src/store/delivery-ledger.ts). So
 * "is this row still my claim?" is answered by "is my lease still running?", with no query:
 *  1. here, just before the call (cheap early exit);
 *  2. again inside the SES transport, after the SDK's middleware and the wait for the permit's
 *     slot, immediately before the HTTP request is started (src/ses/ses-transport.ts): past the
 *     lease, nothing is sent
 *     (ClaimExpiredError) and the row is handed back if it is still ours;
 *  3. the request's timeout is cut to what is left of the lease, so the request is abandoned
 *     (an uncertain outcome) no later than the lease end.
 * Hence every request of a claim ends, or was never started, by the lease end, and the
 * reconciler's grace counts from there, not from the claim. A process frozen anywhere before
 * (2) wakes up past its lease and sends nothing. The one window no client-side check can close
 * is between (2) and the request's bytes being handed to the socket (synchronous code, well
 * under a millisecond); a freeze landing exactly there and outlasting the grace could still
 * send twice.
 */
import { DelayedError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { AudienceSource, MailTransport, PrepareMessages, RateLimiter } from '../src/campaigns/ports.js';
import type { CampaignOrchestrator } from '../src/campaigns/campaign-orchestrator.js';
import type { CampaignsRepository } from '../src/store/campaigns-repository.js';
import type { ClaimedDelivery, ClaimToken, DeliveryLedger } from '../src/store/delivery-ledger.js';
import { ClaimExpiredError } from '../src/errors.js';
import type { CampaignStatus } from '../src/store/schema.js';
import { recipientsOf, type SendJobData } from '../src/queue/send-queues.js';
import { messageSourceOf, prepareCampaignMessages, sendTags, type CampaignMessages, type SenderSettings } from '../src/campaigns/campaign-message.js';
import type { BuiltMessage } from '../src/render/types.js';
import type { SentWriter } from './sent-writer.js';
import { CompletionChecks } from './completion-checks.js';

/** The sender settings (from, publicUrl, listName, unsubscribeSecret) feed the one message builder. */
export interface SendProcessorDeps extends SenderSettings {
  workerId: string;
  campaigns: CampaignsRepository;
  ledger: DeliveryLedger;
  audience: AudienceSource;
  transport: MailTransport;
  limiter: RateLimiter;
  prepareMessages: PrepareMessages;
  orchestrator: CampaignOrchestrator;
  logger?: Logger;
  /** How long a cached campaign status is trusted (ms); bounds how fast a pause takes effect. */
  statusTtlMs?: number;
  /**
   * Batches the claims (workers/claim-batcher.ts: two statements for the claims of several jobs;
   * default: one `claimIfMailable` statement per message through the ledger).
   */
  claims?: { claimIfMailable(campaignId: number, subscriberId: number, listId: number, slotAt?: number): Promise<ClaimedDelivery | null> };
  /** Batches the 'sent' writes (default: one write per message through the ledger). */
  sentWriter?: Pick<SentWriter, 'markSent'>;
  /**
   * A claim's lease (ms from claimed_at): SES_REQUEST_TIMEOUT_S. The SES request is started only
   * within it and abandoned at its end; the reconciler requeues only after it plus the grace.
   */
  claimLeaseMs: number;
  /**
   * How long before its rate-limit slot a recipient's permit wakes it (ms), for the claim, the
   * MIME build and the SDK's request preparation; the request itself starts at the slot.
   */
  permitLeadMs?: number;
  /** Delay before retrying a throttled message (ms). */
  throttleRetryMs?: number;
  /** Recipients of one job sent at a time (default: all of them). */
  recipientConcurrency?: number;
  /** Called with each recipient's final outcome (metrics); a recipient to be retried has none yet. */
  onOutcome?: (outcome: SendOutcome) => void;
}

export type SendOutcome = 'sent' | 'not-sending' | 'not-queued' | 'skipped' | 'failed' | 'quota' | 'account-paused' | 'uncertain';

/** A recipient to try again with the job: SES throttled it (no attempt spent), or another error did (an attempt). */
type Retry = { retry: 'throttled' } | { retry: 'error'; err: unknown };

/**
 * The work in the lead takes a few ms on a quiet machine; 50 ms leaves room for a loaded one (at
 * 500/s on 2 cores, bench/send.ts --rates, runs with 20 and 50 ms were alike). It only moves the
 * wake-up: a claim is held that much longer, well inside its lease.
 */
const DEFAULT_PERMIT_LEAD_MS = 50;

/** The claim's lease ran out before the SES request could start (the process stalled or froze). */
class LeaseExpired extends Error {}

export function createSendProcessor(deps: SendProcessorDeps) {
  const statusTtl = deps.statusTtlMs ?? 200;
  /** Per campaign: its status as last read (a read in flight is shared by every caller that misses meanwhile). */
  const statuses: PerCampaign<CampaignStatus | undefined> = new Map();
  /** Per campaign: the compiled issue loaded and templates prepared, once per process. */
  const builders: PerCampaign<CampaignMessages> = new Map();

  const campaignStatus = (id: number) => shared(statuses, id, statusTtl, async () => (await deps.campaigns.status(id))?.status);

  const campaignMessages = (id: number) =>
    shared(builders, id, Infinity, async () => {
      const c = await deps.campaigns.get(id);
      if (!c) throw new Error(`campaign ${id} not found`);
      return prepareCampaignMessages(messageSourceOf(c), deps, deps.prepareMessages);
    });

  /** Asks whether a campaign is finished: soon after this process's last job of it ends (completion-checks.ts). */
  const completion = new CompletionChecks((id) => deps.orchestrator.checkCompletion(id), {
    onError: (err, campaignId) => deps.logger?.error({ err, campaignId }, 'completion check failed'),
  });

  /**
   * The job: every recipient, then the ones to retry stay in it. Resolves with the outcomes of a
   * job whose recipients are all done; otherwise throws (BullMQ retries the narrowed job).
   */
  async function process(job: Job<SendJobData>, jobToken?: string): Promise<SendOutcome[]> {
    completion.jobStarted(job.data.c);
    try {
      return await processJob(job, jobToken);
    } finally {
      completion.jobEnded(job.data.c);
    }
  }

  async function processJob(job: Job<SendJobData>, jobToken?: string): Promise<SendOutcome[]> {
    const campaignId = job.data.c;
    const ids = recipientsOf(job.data);
    const results = await mapLimit(ids, deps.recipientConcurrency ?? ids.length, (id) =>
      sendOne(job, campaignId, id).catch((err: unknown): Retry => ({ retry: 'error', err })),
    );
    const outcomes: SendOutcome[] = [];
    const again: number[] = [];
    let error: { err: unknown } | undefined;
    results.forEach((r, i) => {
      if (typeof r === 'string') {
        outcomes.push(r);
        deps.onOutcome?.(r);
        return;
      }
      again.push(ids[i]!);
      if (r.retry === 'error') error ??= { err: r.err };
    });
    if (again.length === 0) return outcomes;
    // The retry carries only these; the rest are done (and their rows say so, should a stalled
    // copy of the whole job run again). A crash between this write and the retry below leaves
    // the narrowed job stalled, and BullMQ runs it again: the same set.
    if (again.length < ids.length) await job.updateData({ c: campaignId, s: again });
    if (!error) {
      // Only throttled ones: back-pressure, never a failure; later, without spending an attempt.
      await job.moveToDelayed(Date.now() + (deps.throttleRetryMs ?? 1000) * (0.5 + Math.random()), jobToken);
      throw new DelayedError();
    }
    throw error.err instanceof Error ? error.err : new Error(String(error.err));
  }

  async function sendOne(job: Job<SendJobData>, campaignId: number, subscriberId: number): Promise<SendOutcome | Retry> {
    // Paused or cancelled: do nothing; the row stays queued (resume re-enqueues it, cancel marks it).
    if ((await campaignStatus(campaignId)) !== 'sending') return 'not-sending';
    // Loaded before the permit and the claim (once per campaign per process): a failure leaves
    // the row queued, and the first build (templates, hundreds of ms of synchronous work) does
    // not hold up the wake-ups of permits already reserved, which would come late, be given up
    // as stale and be taken again at the end of the schedule: a gap at the start of a send.
    const messages = await campaignMessages(campaignId);
    // The permit wakes us `permitLeadMs` before its slot: the claim, the MIME build and the
    // SDK's serialization and signing happen in that lead, and the transport awaits the slot
    // itself immediately before starting the request, so only the request follows the slot
    // (the jitter between slot and SES's clock, which the limiter's margin must absorb, is the
    // request's alone). Work that overruns the lead makes the permit late, judged at the slot.
    const permit = await deps.limiter.reserve(deps.permitLeadMs ?? DEFAULT_PERMIT_LEAD_MS);
    if ((await campaignStatus(campaignId)) !== 'sending') return 'not-sending';
    const { listId } = messages.source;
    // Claim and the unsubscribe re-check, batched with other jobs' claims (the common case: no extra statement).
    let claimed = await (deps.claims ? deps.claims.claimIfMailable(campaignId, subscriberId, listId, permit.slotAt) : deps.ledger.claimIfMailable(campaignId, subscriberId, listId, deps.workerId));
    let recheck = false;
    if (!claimed) {
      // Rare miss: not claimable (already sent, held elsewhere…) or no longer mailable.
      claimed = await deps.ledger.claim(campaignId, subscriberId, deps.workerId);
      if (!claimed) return 'not-queued';
      recheck = true;
    }
    const { token } = claimed;
    const deadline = claimed.claimedAt + deps.claimLeaseMs;

    // Until the SES call, a failure means nothing was sent: hand the row back and let BullMQ retry.
    let message: BuiltMessage;
    try {
      if (recheck && !(await deps.audience.isMailable(subscriberId, listId))) {
        await deps.ledger.markSkipped(campaignId, subscriberId, token, 'not mailable at send time');
        completion.settled(campaignId);
        return 'skipped';
      }
      try {
        // Signs the unsubscribe token and encodes only this recipient's values (factory cached above).
        message = messages.build({ id: subscriberId, email: claimed.email, name: claimed.name });
      } catch (err) {
        // This recipient cannot be rendered (an address the MIME builder refuses): fail the row, not the campaign.
        await deps.ledger.markFailed(campaignId, subscriberId, token, `message build failed: ${String(err)}`);
        completion.settled(campaignId);
        return 'failed';
      }
    } catch (err) {
      await deps.ledger.release(campaignId, subscriberId, token, String(err)).catch(() => undefined);
      return { retry: 'error', err };
    }

    let messageId: string;
    // Set when waiting for the slot failed (the limiter's Redis): no request was started.
    let permitFailed: { err: unknown } | undefined;
    try {
      // Fence (1); (2) and (3) are the transport's, from `deadline`, checked after the slot.
      if (Date.now() >= deadline) throw new LeaseExpired();
      const sent = await deps.transport.sendRaw({
        // In pieces when the factory gives them (the whole message is then never joined).
        raw: message.parts ?? message.raw,
        from: deps.from,
        to: claimed.email,
        tags: sendTags(campaignId, subscriberId),
        deadline,
        startAt: () =>
          permit.atSlot().catch((err: unknown) => {
            permitFailed = { err };
            throw err;
          }),
      });
      messageId = sent.messageId;
    } catch (err) {
      if (err instanceof LeaseExpired || err instanceof ClaimExpiredError) return leaseExpired(campaignId, subscriberId, token);
      if (permitFailed) {
        await deps.ledger.release(campaignId, subscriberId, token, `rate limiter: ${String(permitFailed.err)}`).catch(() => undefined);
        return { retry: 'error', err: permitFailed.err };
      }
      return handleSendError(job, campaignId, subscriberId, token, err);
    }
    // Group-committed with other workers' sends in this process; awaited, so the job completes only once the row is written.
    await (deps.sentWriter ?? deps.ledger).markSent(campaignId, subscriberId, token, messageId);
    completion.settled(campaignId);
    return 'sent';
  }

  /**
   * Nothing was sent. Still our claim (we only stalled): hand the row back and let BullMQ retry
   * the job. Not ours any more (requeued, maybe sent by another worker): leave it alone.
   */
  async function leaseExpired(campaignId: number, subscriberId: number, token: ClaimToken): Promise<SendOutcome | Retry> {
    const released = await deps.ledger.release(campaignId, subscriberId, token, 'claim lease ended before the SES call');
    deps.logger?.warn({ campaignId, subscriberId, released }, 'claim lease ended before the SES call (process stalled or frozen); not sent');
    if (released) return { retry: 'error', err: new Error('claim lease ended before the SES call; row handed back') };
    return 'not-queued';
  }

  async function handleSendError(job: Job<SendJobData>, campaignId: number, subscriberId: number, token: ClaimToken, err: unknown): Promise<SendOutcome | Retry> {
    const { kind, maybeSent, httpStatus } = deps.transport.classify(err);
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    if (kind === 'transient' && maybeSent && httpStatus === undefined) {
      // No answer (timeout, connection lost after the request went out): SES may have
      // accepted it. Resending now could send twice; leave the row 'sending' for the
      // reconciler, which settles it from SES's Send event or resends once the lease and the
      // grace after it have passed.
      deps.logger?.warn({ campaignId, subscriberId, err: message }, 'send outcome unknown; row left for reconciliation');
      return 'uncertain';
    }
    switch (kind) {
      case 'rate-throttled': {
        // Back-pressure, never a failure: slow the whole queue, hand the row back, retry later.
        await deps.limiter.reportThrottled();
        await deps.ledger.release(campaignId, subscriberId, token, message);
        return { retry: 'throttled' };
      }
      case 'quota-exceeded': {
        await deps.ledger.release(campaignId, subscriberId, token, message);
        await deps.orchestrator.pause(campaignId, { code: 'quota', note: message });
        statuses.delete(campaignId);
        return 'quota';
      }
      case 'account-paused': {
        await deps.ledger.release(campaignId, subscriberId, token, message);
        const paused = await deps.orchestrator.pauseAll({ code: 'account-paused', note: message });
        statuses.clear();
        deps.logger?.error({ alert: 'ses-account-paused', paused }, 'SES has paused sending for this account: every sending campaign is paused');
        return 'account-paused';
      }
      case 'rejected':
      case 'permanent': {
        await deps.ledger.markFailed(campaignId, subscriberId, token, message);
        deps.logger?.warn({ campaignId, subscriberId, err: message }, 'message rejected; row failed');
        completion.settled(campaignId);
        return 'failed';
      }
      case 'transient':
      default: {
        const attempts = job.opts.attempts ?? 1;
        if (job.attemptsMade + 1 >= attempts) {
          await deps.ledger.markFailed(campaignId, subscriberId, token, `gave up after ${attempts} attempts: ${message}`);
          completion.settled(campaignId);
          return 'failed';
        }
        await deps.ledger.release(campaignId, subscriberId, token, message);
        return { retry: 'error', err };
      }
    }
  }

  return {
    process,
    /** Forget cached campaign state (tests, or after an operator action in this process). */
    invalidate(campaignId?: number) {
      if (campaignId === undefined) statuses.clear();
      else statuses.delete(campaignId);
    },
    close() {
      completion.close();
    },
  };
}

/** A value per campaign, loaded once and shared by every caller until it is `ttlMs` old. */
type PerCampaign<V> = Map<number, { value: Promise<V>; at: number }>;

/** `cache`'s value for `id`, or `load()` shared from now on; a failed load is not kept (the next caller loads again). */
function shared<V>(cache: PerCampaign<V>, id: number, ttlMs: number, load: () => Promise<V>): Promise<V> {
  const cached = cache.get(id);
  if (cached && Date.now() - cached.at < ttlMs) return cached.value;
  const entry = { value: load(), at: Date.now() };
  entry.value.catch(() => cache.get(id) === entry && cache.delete(id));
  cache.set(id, entry);
  return entry.value;
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  if (items.length <= limit) return Promise.all(items.map(fn));
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, lane));
  return results;
}
