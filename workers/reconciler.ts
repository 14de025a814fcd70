/**
 * The periodic sweep each worker process runs (one at a time across all processes, by a
 * short Redis lock). It keeps the pipeline honest without trusting Redis to hold state:
 *  - fires scheduled campaigns that are due (and marks the ones missed during downtime);
 *  - requeues rows left 'sending' by a dead or frozen worker once their claim's lease
 *    (SES_REQUEST_TIMEOUT_S) and UNCERTAIN_GRACE_S after it have passed without SES's Send
 *    event confirming them (a confirmed row is already 'sent'). Not earlier: until the lease
 *    ends the owner may still start its SES request, and SES may accept a request the owner
 *    gave up on; see the exactly-once argument at DeliveryLedger.requeueUncertain;
 *  - restarts a campaign's fan-out if its job vanished (Redis restarted without data) and
 *    re-adds jobs for rows queued for long (their jobs may have been lost with Redis);
 *  - moves canary waves on (CampaignOrchestrator.advanceCanary): a wave that is out starts its
 *    wait (deadline persisted in the campaign row), a wait that passed clean releases the
 *    rest, a wave over the limits pauses the campaign. The deadline is data, not a timer, so a
 *    worker killed during the wait loses nothing: the next sweep, in any process, acts on it;
 *  - resumes campaigns paused for the daily quota once GetSendQuota shows room again;
 *  - marks campaigns whose rows are all terminal as sent;
 *  - folds the ledger counters' deltas (DeliveryLedger.foldCounters, migration 0015).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CampaignOrchestrator } from '../src/campaigns/campaign-orchestrator.js';
import type { MailTransport } from '../src/campaigns/ports.js';
import type { CampaignsRepository } from '../src/store/campaigns-repository.js';
import type { DeliveryLedger } from '../src/store/delivery-ledger.js';
import { redisKeys } from '../src/queue/redis-keys.js';
import { batchesOfRows, enqueueSends, fanoutJobId, type SendQueues } from '../src/queue/send-queues.js';
import type { QueuedRow } from '../src/store/delivery-ledger.js';

export interface ReconcilerDeps {
  campaigns: CampaignsRepository;
  ledger: DeliveryLedger;
  orchestrator: CampaignOrchestrator;
  queues: SendQueues;
  transport: MailTransport;
  redis: Redis;
  prefix: string;
  workerId: string;
  logger?: Logger;
}

export interface ReconcilerOptions {
  /**
   * A row claimed longer ago than this and unconfirmed is requeued: at least the claim lease
   * plus the grace, i.e. `uncertainAfterMs(config)` ((SES_REQUEST_TIMEOUT_S + UNCERTAIN_GRACE_S) s).
   */
  uncertainAfterMs: number;
  scheduleGraceMs: number;
  /** Queued rows untouched this long get their jobs re-added (idempotent). */
  staleQueuedMs?: number;
  quotaRecheckMs?: number;
}

/**
 * A queued row younger than this may still be on its way into the send queue (the fan-out
 * inserts rows, then adds their jobs; a release re-adds its job), so an empty queue does not
 * count it as lost.
 */
const LOST_JOBS_MIN_AGE_MS = 2000;

export function createReconciler(deps: ReconcilerDeps, options: ReconcilerOptions) {
  const staleQueuedMs = options.staleQueuedMs ?? 60_000;
  const quotaRecheckMs = options.quotaRecheckMs ?? 60_000;
  let lastQuotaCheck = 0;
  // Re-adding a campaign's stale queued rows is idempotent but not free: at most once per staleQueuedMs.
  const lastRequeue = new Map<number, number>();
  const lockKey = redisKeys(deps.prefix).sendSweepLock();

  /** No send job waiting, running or delayed anywhere (once per sweep). */
  let lostCheck: { at: number; lost: Promise<boolean> } | undefined;
  function sendJobsLost(now: number): Promise<boolean> {
    if (lostCheck?.at !== now) {
      const counts = deps.queues.send.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
      lostCheck = { at: now, lost: counts.then((c) => Object.values(c).every((n) => n === 0)) };
    }
    return lostCheck.lost;
  }

  async function sweep(now = Date.now()): Promise<void> {
    const got = await deps.redis.set(lockKey, deps.workerId, 'PX', 5000, 'NX');
    if (got !== 'OK') return;
    try {
      await deps.orchestrator.fireDueSchedules(options.scheduleGraceMs);

      const requeued = await deps.ledger.requeueUncertain(now - options.uncertainAfterMs, now);
      if (requeued.length > 0) {
        deps.logger?.warn({ rows: requeued.length }, 'requeued rows left in flight without SES confirmation');
        const byCampaign = new Map<number, QueuedRow[]>();
        for (const r of requeued) byCampaign.set(r.campaignId, [...(byCampaign.get(r.campaignId) ?? []), r]);
        for (const [c, rows] of byCampaign) {
          // A cancelled campaign's unconfirmed rows are not resent: they join the cancelled ones.
          // Otherwise each goes back into a job with its fan-out batch's id. That job has nearly
          // always finished by now (lease + grace after this claim); if another member still
          // waits in it for a permit, the add is a no-op and the stale-queued requeue below
          // re-adds the row once that job is gone. Never lost, never sent twice (the claim).
          if ((await deps.campaigns.status(c))?.status === 'cancelled') await deps.ledger.cancelQueued(c, now);
          else await enqueueSends(deps.queues.send, c, batchesOfRows(rows));
        }
      }

      // Fold the ledger counters' statement deltas (migration 0015) so a campaign's read sums a
      // few rows; correctness never depends on it (a read adds the unfolded deltas).
      await deps.ledger.foldCounters().catch((err: unknown) => deps.logger?.error({ err }, 'folding the ledger counters failed'));

      for (const c of await deps.campaigns.byStatus(['sending'])) {
        await deps.ledger.settleConfirmedQueued(c.id, now);
        // The wave is written and out (or waiting): the sweep judges it, and the fan-out has
        // nothing to do until the release. Its outcome shows in the next sweep's read (a release
        // is followed by a fan-out job).
        const waveHeld = c.canary_phase === 'wave' || c.canary_phase === 'waiting';
        if (waveHeld) {
          await deps.orchestrator.advanceCanary(c.id).catch((err: unknown) => deps.logger?.error({ err, campaignId: c.id }, 'canary step failed'));
        }
        if (await deps.orchestrator.checkCompletion(c.id)) continue;
        const fanoutAlive = (await deps.queues.fanout.getJob(fanoutJobId(c.id))) !== undefined;
        if (fanoutAlive) continue;
        const stale = await deps.ledger.queuedPage(c.id, 0, 1, now - staleQueuedMs);
        const recently = now - (lastRequeue.get(c.id) ?? 0) < staleQueuedMs;
        if ((!c.fanout_done && !waveHeld) || (stale.length > 0 && !recently)) {
          lastRequeue.set(c.id, now);
          await deps.orchestrator.requeue(c.id, { updatedBefore: now - staleQueuedMs });
        } else if ((await sendJobsLost(now)) && (await deps.ledger.queuedPage(c.id, 0, 1, now - LOST_JOBS_MIN_AGE_MS)).length > 0) {
          // Rows are queued but the send queue holds no job at all: Redis lost them (restart
          // without data, failover, flush). Re-add them now rather than after STALE_QUEUED_S.
          lastRequeue.set(c.id, now);
          deps.logger?.warn({ campaignId: c.id }, 'send queue is empty while rows are queued (Redis lost its jobs?): re-adding them');
          await deps.orchestrator.requeue(c.id, { updatedBefore: now - LOST_JOBS_MIN_AGE_MS });
        }
      }

      const quotaPaused = (await deps.campaigns.byStatus(['paused'])).filter((c) => c.paused_reason === 'quota');
      if (quotaPaused.length > 0 && now - lastQuotaCheck >= quotaRecheckMs) {
        lastQuotaCheck = now;
        const quota = await deps.transport.getSendQuota();
        if (quota && quota.sentLast24Hours < quota.max24HourSend) {
          for (const c of quotaPaused) {
            // Guarded by the code: a campaign an editor paused since this list was read stays paused.
            if (await deps.orchestrator.resume(c.id, { pausedFor: 'quota' })) deps.logger?.info({ campaignId: c.id }, 'daily quota freed: campaign resumed');
          }
        }
      }
    } finally {
      // Release only our own lock.
      if ((await deps.redis.get(lockKey)) === deps.workerId) await deps.redis.del(lockKey);
    }
  }

  return { sweep };
}
