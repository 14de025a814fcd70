/**
 * One send job = one subscriber of one campaign. Order matters:
 *   campaign still sending? → global rate limiter → claim the ledger row if the subscriber
 *   is still mailable (one conditional update: only one worker anywhere wins) → personalize +
 *   MIME (factory cached per campaign) → SendRawEmail → record 'sent' + SES message id.
 * The SES call and the 'sent' write are not atomic: a worker killed between them leaves
 * the row 'sending', which the reconciler settles from SES's Send event or resends after
 * UNCERTAIN_GRACE_S (see reconciler.ts).
 */
import { DelayedError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { AudienceSource, MailTransport, PrepareMessages, RateLimiter } from '../src/campaigns/ports.js';
import type { CampaignOrchestrator } from '../src/campaigns/campaign-orchestrator.js';
import type { CampaignsRepository } from '../src/store/campaigns-repository.js';
import type { DeliveryLedger } from '../src/store/delivery-ledger.js';
import type { CampaignStatus } from '../src/store/schema.js';
import type { CompiledIssue, MessageFactory } from '../src/render/types.js';
import type { SendJobData } from '../src/queue/send-queues.js';
import { signUnsubscribeToken } from '../src/unsubscribe/token.js';
import { archiveUrlFor } from '../src/archive/archive-url.js';
import type { SentWriter } from './sent-writer.js';

export interface SendProcessorDeps {
  workerId: string;
  campaigns: CampaignsRepository;
  ledger: DeliveryLedger;
  audience: AudienceSource;
  transport: MailTransport;
  limiter: RateLimiter;
  prepareMessages: PrepareMessages;
  orchestrator: CampaignOrchestrator;
  logger?: Logger;
  from: string;
  publicUrl: string;
  unsubscribeSecret: string;
  listName: string;
  /** How long a cached campaign status is trusted (ms); bounds how fast a pause takes effect. */
  statusTtlMs?: number;
  /** Batches the 'sent' writes (default: one write per message through the ledger). */
  sentWriter?: Pick<SentWriter, 'markSent'>;
  /** Delay before retrying a throttled message (ms). */
  throttleRetryMs?: number;
}

export type SendOutcome = 'sent' | 'not-sending' | 'not-queued' | 'skipped' | 'failed' | 'throttled' | 'quota' | 'account-paused' | 'uncertain';

interface CampaignEntry {
  listId: number;
  factory: MessageFactory;
}

export function createSendProcessor(deps: SendProcessorDeps) {
  const statusTtl = deps.statusTtlMs ?? 200;
  const statuses = new Map<number, { status: CampaignStatus | undefined; at: number }>();
  const factories = new Map<number, Promise<CampaignEntry>>();
  const completionTimers = new Map<number, NodeJS.Timeout>();

  async function campaignStatus(id: number): Promise<CampaignStatus | undefined> {
    const cached = statuses.get(id);
    if (cached && Date.now() - cached.at < statusTtl) return cached.status;
    const row = await deps.campaigns.status(id);
    statuses.set(id, { status: row?.status, at: Date.now() });
    return row?.status;
  }

  /** Compiled issue loaded and templates prepared once per campaign per process. */
  function campaignEntry(id: number): Promise<CampaignEntry> {
    let entry = factories.get(id);
    if (!entry) {
      entry = (async () => {
        const c = await deps.campaigns.get(id);
        if (!c?.compiled_json) throw new Error(`campaign ${id} has no compiled issue`);
        const compiled = JSON.parse(c.compiled_json) as CompiledIssue;
        const host = new URL(deps.publicUrl).hostname;
        const factory = deps.prepareMessages(compiled, {
          from: deps.from,
          campaignId: id,
          listId: `${deps.listName.replace(/[<>\r\n"]/g, '')} <list-${c.list_id}.${host}>`,
          // "View in browser": the issue's public archive page (src/http/pages/archive-routes.ts).
          archiveUrl: archiveUrlFor(deps.publicUrl, c.issue_slug),
        });
        return { listId: c.list_id, factory };
      })();
      entry.catch(() => factories.delete(id));
      factories.set(id, entry);
    }
    return entry;
  }

  /** Debounced completion check per campaign: at most a few count queries per second. */
  function pokeCompletion(campaignId: number): void {
    if (completionTimers.has(campaignId)) return;
    const t = setTimeout(() => {
      completionTimers.delete(campaignId);
      deps.orchestrator.checkCompletion(campaignId).catch((err) => deps.logger?.error({ err, campaignId }, 'completion check failed'));
    }, 250);
    t.unref();
    completionTimers.set(campaignId, t);
  }

  async function process(job: Job<SendJobData>, token?: string): Promise<SendOutcome> {
    const { c: campaignId, s: subscriberId } = job.data;
    // Paused or cancelled: do nothing; the row stays queued (resume re-enqueues it, cancel marks it).
    if ((await campaignStatus(campaignId)) !== 'sending') return 'not-sending';
    await deps.limiter.acquire();
    if ((await campaignStatus(campaignId)) !== 'sending') return 'not-sending';

    // Loaded before the claim (cached per campaign): a failure here leaves the row queued.
    const { listId, factory } = await campaignEntry(campaignId);
    // Claim and the unsubscribe re-check in one statement (the common case: one round trip).
    let claimed = await deps.ledger.claimIfMailable(campaignId, subscriberId, listId, deps.workerId);
    let recheck = false;
    if (!claimed) {
      // Rare miss: not claimable (already sent, held elsewhere…) or no longer mailable.
      claimed = await deps.ledger.claim(campaignId, subscriberId, deps.workerId);
      if (!claimed) return 'not-queued';
      recheck = true;
    }

    // Until the SES call, a failure means nothing was sent: hand the row back and let BullMQ retry.
    let raw: Buffer;
    try {
      if (recheck && !(await deps.audience.isMailable(subscriberId, listId))) {
        await deps.ledger.markSkipped(campaignId, subscriberId, deps.workerId, 'not mailable at send time');
        pokeCompletion(campaignId);
        return 'skipped';
      }
      const unsubscribeToken = signUnsubscribeToken({ subscriberId, listId }, deps.unsubscribeSecret);
      try {
        raw = factory.build({
          subscriberId,
          email: claimed.email,
          name: claimed.name,
          unsubscribeUrl: `${deps.publicUrl}/u/${unsubscribeToken}`,
        }).raw;
      } catch (err) {
        // This recipient cannot be rendered (an address the MIME builder refuses): fail the row, not the campaign.
        await deps.ledger.markFailed(campaignId, subscriberId, deps.workerId, `message build failed: ${String(err)}`);
        pokeCompletion(campaignId);
        return 'failed';
      }
    } catch (err) {
      await deps.ledger.release(campaignId, subscriberId, deps.workerId, String(err)).catch(() => undefined);
      throw err;
    }

    let messageId: string;
    try {
      const sent = await deps.transport.sendRaw({
        raw,
        from: deps.from,
        to: claimed.email,
        tags: { campaign: String(campaignId), subscriber: String(subscriberId) },
      });
      messageId = sent.messageId;
    } catch (err) {
      return handleSendError(job, token, campaignId, subscriberId, err);
    }
    // Group-committed with other workers' sends in this process; awaited, so the job completes only once the row is written.
    await (deps.sentWriter ?? deps.ledger).markSent(campaignId, subscriberId, deps.workerId, messageId);
    pokeCompletion(campaignId);
    return 'sent';
  }

  async function handleSendError(job: Job<SendJobData>, token: string | undefined, campaignId: number, subscriberId: number, err: unknown): Promise<SendOutcome> {
    const { kind, maybeSent, httpStatus } = deps.transport.classify(err);
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    if (kind === 'transient' && maybeSent && httpStatus === undefined) {
      // No answer (timeout, connection lost after the request went out): SES may have
      // accepted it. Resending now could send twice; leave the row 'sending' for the
      // reconciler, which settles it from SES's Send event or resends after the grace period.
      deps.logger?.warn({ campaignId, subscriberId, err: message }, 'send outcome unknown; row left for reconciliation');
      return 'uncertain';
    }
    switch (kind) {
      case 'rate-throttled': {
        // Back-pressure, never a failure: slow the whole queue, hand the row back, retry later.
        await deps.limiter.reportThrottled();
        await deps.ledger.release(campaignId, subscriberId, deps.workerId, message);
        await job.moveToDelayed(Date.now() + (deps.throttleRetryMs ?? 1000) * (0.5 + Math.random()), token);
        throw new DelayedError();
      }
      case 'quota-exceeded': {
        await deps.ledger.release(campaignId, subscriberId, deps.workerId, message);
        await deps.orchestrator.pause(campaignId, { code: 'quota', note: message });
        statuses.delete(campaignId);
        return 'quota';
      }
      case 'account-paused': {
        await deps.ledger.release(campaignId, subscriberId, deps.workerId, message);
        const paused = await deps.orchestrator.pauseAll({ code: 'account-paused', note: message });
        statuses.clear();
        deps.logger?.error({ alert: 'ses-account-paused', paused }, 'SES has paused sending for this account: every sending campaign is paused');
        return 'account-paused';
      }
      case 'rejected':
      case 'permanent': {
        await deps.ledger.markFailed(campaignId, subscriberId, deps.workerId, message);
        deps.logger?.warn({ campaignId, subscriberId, err: message }, 'message rejected; row failed');
        pokeCompletion(campaignId);
        return 'failed';
      }
      case 'transient':
      default: {
        const attempts = job.opts.attempts ?? 1;
        if (job.attemptsMade + 1 >= attempts) {
          await deps.ledger.markFailed(campaignId, subscriberId, deps.workerId, `gave up after ${attempts} attempts: ${message}`);
          pokeCompletion(campaignId);
          return 'failed';
        }
        await deps.ledger.release(campaignId, subscriberId, deps.workerId, message);
        throw err instanceof Error ? err : new Error(message);
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
      for (const t of completionTimers.values()) clearTimeout(t);
      completionTimers.clear();
    },
  };
}
