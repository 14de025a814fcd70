import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { ApiTokensRepository } from './api-tokens-repository.js';
import { AudienceRepository } from './audience-repository.js';
import { ListMembersRepository } from './list-members-repository.js';
import { ListsRepository } from './lists-repository.js';
import { SubscribersRepository } from './subscribers-repository.js';
import { SuppressionsRepository } from './suppressions-repository.js';

/** The subscriber-side repositories over one database handle (or transaction). */
export interface SubscriberRepositories {
  subscribers: SubscribersRepository;
  lists: ListsRepository;
  listMembers: ListMembersRepository;
  suppressions: SuppressionsRepository;
  apiTokens: ApiTokensRepository;
  audience: AudienceRepository;
}

export function createSubscriberRepositories(db: Kysely<Database>, now: () => number = Date.now): SubscriberRepositories {
  return {
    subscribers: new SubscribersRepository(db, now),
    lists: new ListsRepository(db, now),
    listMembers: new ListMembersRepository(db, now),
    suppressions: new SuppressionsRepository(db, now),
    apiTokens: new ApiTokensRepository(db, now),
    audience: new AudienceRepository(db),
  };
}
