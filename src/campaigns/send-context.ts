/**
 * What the CLI and the HTTP API need to act on campaigns: the store, the BullMQ queues
 * and the orchestrator, opened from the config and closed together.
 */
import type { Config } from '../config.js';
import { openStore, type Store } from '../store/db.js';
import { CampaignsRepository } from '../store/campaigns-repository.js';
import { DeliveryLedger } from '../store/delivery-ledger.js';
import { createRedisConnection } from '../queue/connection.js';
import { createSendQueues, type SendQueues } from '../queue/send-queues.js';
import { AudienceRepository } from '../store/audience-repository.js';
import { CampaignOrchestrator } from './campaign-orchestrator.js';
import type { AudienceSource } from './ports.js';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

export interface SendContext {
  store: Store;
  campaigns: CampaignsRepository;
  ledger: DeliveryLedger;
  audience: AudienceSource;
  queues: SendQueues;
  orchestrator: CampaignOrchestrator;
  close(): Promise<void>;
}

export function storeAudience(db: Kysely<Database>): AudienceSource {
  const repo = new AudienceRepository(db);
  return {
    audiencePage: (q) => repo.audiencePage(q),
    audienceCount: (q) => repo.audienceCount(q),
    isMailable: (s, l) => repo.isMailable(s, l),
    recipient: (id) => db.selectFrom('subscribers').select(['email', 'name']).where('id', '=', id).executeTakeFirst(),
    listIdByName: async (name) => (await db.selectFrom('lists').select('id').where('name', '=', name).executeTakeFirst())?.id,
  };
}

export async function openSendContext(config: Config, opts: { store?: Store } = {}): Promise<SendContext> {
  const store = opts.store ?? (await openStore(config.DATABASE_URL));
  const campaigns = new CampaignsRepository(store.db);
  const ledger = new DeliveryLedger(store.db);
  const audience = storeAudience(store.db);
  const connection = createRedisConnection(config.REDIS_URL);
  const queues = createSendQueues(connection, config.QUEUE_PREFIX);
  const orchestrator = new CampaignOrchestrator({
    campaigns,
    ledger,
    audience,
    queues,
    uncertainAfterMs: Math.min(config.UNCERTAIN_GRACE_S * 1000, 30_000),
  });
  return {
    store,
    campaigns,
    ledger,
    audience,
    queues,
    orchestrator,
    async close() {
      await queues.close();
      connection.disconnect();
      if (!opts.store) await store.destroy();
    },
  };
}
