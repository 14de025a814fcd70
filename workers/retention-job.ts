/**
 * The periodic retention prune (LEDGER_RETENTION_DAYS set): every `intervalMs` one worker of
 * the fleet (a Redis lock, renewed while it works) runs LedgerRetention.prune. It runs beside
 * the sweep, not in it: a prune of a million-row campaign takes a while and must not hold up
 * the reconciler. Batches are small and paced, so sends and webhooks go on meanwhile; a
 * stopping worker stops between batches and the next run resumes.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { LedgerRetention, PrunedCampaign } from '../src/campaigns/ledger-retention.js';
import { redisKeys } from '../src/queue/redis-keys.js';

const LOCK_MS = 60_000;

export interface RetentionJobDeps {
  retention: Pick<LedgerRetention, 'prune'>;
  redis: Redis;
  prefix: string;
  workerId: string;
  logger?: Logger;
}

export function startRetentionJob(deps: RetentionJobDeps, options: { intervalMs: number; firstAfterMs?: number }) {
  const lockKey = redisKeys(deps.prefix).retentionLock();
  let stopping = false;
  let running: Promise<PrunedCampaign[]> | null = null;

  async function holdLock(): Promise<boolean> {
    if (stopping) return false;
    if ((await deps.redis.get(lockKey)) !== deps.workerId) return false;
    await deps.redis.pexpire(lockKey, LOCK_MS);
    return true;
  }

  async function runOnce(): Promise<PrunedCampaign[]> {
    if ((await deps.redis.set(lockKey, deps.workerId, 'PX', LOCK_MS, 'NX')) !== 'OK') return [];
    let lastRenew = Date.now();
    try {
      return await deps.retention.prune({
        keepGoing: async () => {
          if (stopping) return false;
          if (Date.now() - lastRenew < LOCK_MS / 4) return true;
          lastRenew = Date.now();
          return holdLock();
        },
        onCampaign: (p) => deps.logger?.info({ campaignId: p.id, ledgerRows: p.ledgerRows, events: p.events, batches: p.batches }, 'retention: pruned a finished campaign'),
      });
    } finally {
      if ((await deps.redis.get(lockKey)) === deps.workerId) await deps.redis.del(lockKey);
    }
  }

  const run = (): Promise<PrunedCampaign[]> => {
    if (running || stopping) return running ?? Promise.resolve([]);
    running = runOnce()
      .catch((err: unknown) => {
        deps.logger?.error({ err: err instanceof Error ? err.message : String(err) }, 'retention prune failed');
        return [];
      })
      .finally(() => {
        running = null;
      });
    return running;
  };

  const first = setTimeout(() => void run(), options.firstAfterMs ?? 10_000);
  const timer = setInterval(() => void run(), options.intervalMs);
  return {
    /** Run a prune now (or wait for the one running). */
    run,
    async close() {
      stopping = true;
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
