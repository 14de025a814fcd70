/** The store's audience queries as the pipeline's AudienceSource port. */
import type { Kysely } from 'kysely';
import type { AudienceSource } from '../src/campaigns/ports.js';
import { AudienceRepository } from '../src/store/audience-repository.js';
import type { Database } from '../src/store/schema.js';

export function createStoreAudience(db: Kysely<Database>): AudienceSource {
  const repo = new AudienceRepository(db);
  return {
    audiencePage: (q) => repo.audiencePage(q),
    audienceCount: (q) => repo.audienceCount(q),
    isMailable: (s, l) => repo.isMailable(s, l),
    recipient: (id) => db.selectFrom('subscribers').select(['email', 'name']).where('id', '=', id).executeTakeFirst(),
    listIdByName: async (name) =>
      (await db.selectFrom('lists').select('id').where('name', '=', name).executeTakeFirst())?.id,
  };
}
