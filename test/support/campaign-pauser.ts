/**
 * The campaign orchestrator as the SES webhook uses it (pausing a campaign whose reputation
 * breaker tripped), for apps built on a test store without Redis or queues. Pausing touches
 * only the campaigns table; anything else of the orchestrator would reach a dependency that
 * throws, so a test that needs more fails loudly instead of passing on a stub. Records calls.
 */
import { CampaignOrchestrator } from '../../src/campaigns/campaign-orchestrator.js';
import type { PauseReason } from '../../src/campaigns/pause-reason.js';
import type { CampaignPauser } from '../../src/events/event-applier.js';
import { CampaignsRepository } from '../../src/store/campaigns-repository.js';
import type { Store } from '../../src/store/db.js';

export interface RecordingPauser extends CampaignPauser {
  /** Every pause asked for, with whether it won the transition. */
  calls: Array<{ campaignId: number; reason: PauseReason; paused: boolean }>;
}

const unavailable = (what: string) =>
  new Proxy(
    {},
    {
      get(_target, property) {
        throw new Error(`test campaign pauser: the orchestrator reached ${what}.${String(property)}, which this app has not got`);
      },
    },
  ) as never;

export function campaignPauser(store: Pick<Store, 'db'>): RecordingPauser {
  const orchestrator = new CampaignOrchestrator({
    campaigns: new CampaignsRepository(store.db),
    ledger: unavailable('ledger'),
    audience: unavailable('audience'),
    queues: unavailable('queues'),
  });
  const calls: RecordingPauser['calls'] = [];
  return {
    calls,
    async pause(campaignId, reason) {
      const paused = await orchestrator.pause(campaignId, reason);
      calls.push({ campaignId, reason, paused });
      return paused;
    },
  };
}
