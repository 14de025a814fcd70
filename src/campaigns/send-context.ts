/**
 * What the CLI and the HTTP API need to act on campaigns: the store, the BullMQ queues
 * and the orchestrator, as the composition root (src/composition-root.ts) builds them.
 */
import type { Config } from '../config.js';
import { openCompositionRoot, type CompositionRoot } from '../composition-root.js';
import { createLogger, type Logger } from '../logger.js';
import type { Store } from '../store/db.js';
import type { CampaignsRepository } from '../store/campaigns-repository.js';
import type { DeliveryLedger } from '../store/delivery-ledger.js';
import type { SendQueues } from '../queue/send-queues.js';
import type { CampaignOrchestrator } from './campaign-orchestrator.js';
import type { AudienceSource } from './ports.js';

export interface SendContext {
  /** What it is a view over: the SES transport and Redis for anything beyond campaigns (test copies). */
  root: CompositionRoot;
  store: Store;
  campaigns: CampaignsRepository;
  ledger: DeliveryLedger;
  audience: AudienceSource;
  queues: SendQueues;
  orchestrator: CampaignOrchestrator;
  close(): Promise<void>;
}

/**
 * A view over a composition root. Without `root` it opens one of its own (with `store`, if
 * given, used as is) and closes it on close(); with `root`, close() leaves it to its owner.
 * CLI commands print their own lines: the root's process log is silent unless `logger` says.
 */
export async function openSendContext(
  config: Config,
  opts: { store?: Store; root?: CompositionRoot; logger?: Logger } = {},
): Promise<SendContext> {
  const root = opts.root ?? openCompositionRoot(config, { store: opts.store, logger: opts.logger ?? createLogger('silent') });
  try {
    return {
      root,
      store: await root.store(),
      campaigns: await root.campaigns(),
      ledger: await root.ledger(),
      audience: await root.audience(),
      queues: await root.queues(),
      orchestrator: await root.orchestrator(),
      close: async () => {
        if (!opts.root) await root.close();
      },
    };
  } catch (err) {
    if (!opts.root) await root.close();
    throw err;
  }
}
