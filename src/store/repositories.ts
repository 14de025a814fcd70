import type { Kysely } from 'kysely';
import type { Store } from './db.js';
import type { Database } from './schema.js';
import { ApiTokensRepository } from './api-tokens-repository.js';
import { ArchiveRepository } from './archive-repository.js';
import { AudienceRepository } from './audience-repository.js';
import { AwaitingOutcomeRepository } from './awaiting-outcome-repository.js';
import { CampaignActivityRepository } from './campaign-activity-repository.js';
import { CampaignsRepository } from './campaigns-repository.js';
import { DeliveryLedger } from './delivery-ledger.js';
import { CampaignReportsRepository } from './campaign-reports-repository.js';
import { CampaignHealthRepository } from './campaign-health-repository.js';
import { EngagementHygieneRepository } from './engagement-hygiene-repository.js';
import { LedgerRetentionRepository } from './ledger-retention-repository.js';
import { ListMembersRepository } from './list-members-repository.js';
import { ListsRepository } from './lists-repository.js';
import { SignupRequestsRepository } from './signup-requests-repository.js';
import { SubscriberActionLog } from './subscriber-action-log.js';
import { SubscriberImportRepository } from './subscriber-import-repository.js';
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

/** Every repository and read model that code outside the store uses, over one handle. */
export interface Repositories extends SubscriberRepositories {
  signupRequests: SignupRequestsRepository;
  actionLog: SubscriberActionLog;
  subscriberImport: SubscriberImportRepository;
  campaignReports: CampaignReportsRepository;
  campaignHealth: CampaignHealthRepository;
  engagementHygiene: EngagementHygieneRepository;
  archive: ArchiveRepository;
  awaitingOutcome: AwaitingOutcomeRepository;
  campaigns: CampaignsRepository;
  campaignActivity: CampaignActivityRepository;
  ledger: DeliveryLedger;
  retention: LedgerRetentionRepository;
}

/** Runs a unit of work in one database transaction, handing it repositories bound to it. */
export interface Transactional<R> {
  /**
   * Everything `work` does through `repos` commits together or not at all. Inside, do not
   * call methods that open a transaction of their own (SubscribersRepository.unsubscribe
   * and .remove, SubscriberImportRepository.writeBatch): they are units already.
   */
  transaction<T>(work: (repos: R) => Promise<T>): Promise<T>;
}

export type StoreRepositories = Repositories & Transactional<Repositories>;

function repositoriesOver(db: Kysely<Database>, now: () => number): Repositories {
  return {
    ...createSubscriberRepositories(db, now),
    signupRequests: new SignupRequestsRepository(db),
    actionLog: new SubscriberActionLog(db),
    subscriberImport: new SubscriberImportRepository(db),
    campaignReports: new CampaignReportsRepository(db),
    campaignHealth: new CampaignHealthRepository(db),
    engagementHygiene: new EngagementHygieneRepository(db),
    archive: new ArchiveRepository(db),
    awaitingOutcome: new AwaitingOutcomeRepository(db),
    campaigns: new CampaignsRepository(db),
    campaignActivity: new CampaignActivityRepository(db),
    ledger: new DeliveryLedger(db),
    retention: new LedgerRetentionRepository(db),
  };
}

/**
 * The repositories over a store: how code outside src/store/ reaches the database (it
 * never holds the Kysely handle or a transaction itself). `now` is the repositories' clock.
 */
export function openRepositories(store: Store, now: () => number = Date.now): StoreRepositories {
  return {
    ...repositoriesOver(store.db, now),
    transaction: (work) => store.db.transaction().execute((trx) => work(repositoriesOver(trx, now))),
  };
}
