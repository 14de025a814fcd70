import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { DialectName, Store } from './db.js';
import { initialSchema } from './migrations/0001-initial-schema.js';
import { importSeen } from './migrations/0002-import-seen.js';
import { signupRequests } from './migrations/0003-signup-requests.js';
import { sendingIndex } from './migrations/0004-sending-index.js';
import { pauseNote } from './migrations/0005-pause-note.js';
import { tokenExpiry } from './migrations/0007-token-expiry.js';
import { campaignActivity } from './migrations/0008-campaign-activity.js';
import { tokenEmail } from './migrations/0009-token-email.js';
import { canaryWave } from './migrations/0010-canary-wave.js';
import { providerEngagement } from './migrations/0011-provider-engagement.js';
import { campaignTotals } from './migrations/0013-campaign-totals.js';
import { searchIndexes } from './migrations/0014-search-indexes.js';
import { deliveryCounters } from './migrations/0015-delivery-counters.js';
import { totalKnown } from './migrations/0016-total-known.js';
import { subscriberSearchFts } from './migrations/0018-subscriber-search-fts.js';
import { progressCounters } from './migrations/0019-progress-counters.js';
import { engagementMarks } from './migrations/0020-engagement-marks.js';
import { listAudienceSizes } from './migrations/0021-list-audience-sizes.js';
import { campaignPageIndexes } from './migrations/0022-campaign-page-indexes.js';
import { sqliteCounterTriggers } from './migrations/0023-sqlite-counter-triggers.js';
import { sqliteProviderLookup } from './migrations/0025-sqlite-provider-lookup.js';
import { deliverySendBatch } from './migrations/0026-delivery-send-batch.js';
import { sqliteProgressTriggerWhen } from './migrations/0027-sqlite-progress-trigger-when.js';

/** Migrations in order; each is a function of the dialect so one list serves both. */
const migrations: Record<string, (dialect: DialectName) => Migration> = {
  '0001-initial-schema': initialSchema,
  '0002-import-seen': importSeen,
  '0003-signup-requests': signupRequests,
  '0004-sending-index': sendingIndex,
  '0005-pause-note': pauseNote,
  '0007-token-expiry': tokenExpiry,
  '0008-campaign-activity': campaignActivity,
  '0009-token-email': tokenEmail,
  '0010-canary-wave': canaryWave,
  '0011-provider-engagement': providerEngagement,
  '0013-campaign-totals': campaignTotals,
  '0014-search-indexes': searchIndexes,
  '0015-delivery-counters': deliveryCounters,
  '0016-total-known': totalKnown,
  '0018-subscriber-search-fts': subscriberSearchFts,
  '0019-progress-counters': progressCounters,
  '0020-engagement-marks': engagementMarks,
  '0021-list-audience-sizes': listAudienceSizes,
  '0022-campaign-page-indexes': campaignPageIndexes,
  '0023-sqlite-counter-triggers': sqliteCounterTriggers,
  '0025-sqlite-provider-lookup': sqliteProviderLookup,
  '0026-delivery-send-batch': deliverySendBatch,
  '0027-sqlite-progress-trigger-when': sqliteProgressTriggerWhen,
};

class StaticMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: DialectName) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return Object.fromEntries(Object.entries(migrations).map(([name, make]) => [name, make(this.dialect)]));
  }
}

/** The migrations for a dialect, as Kysely's Migrator takes them (tests that migrate down). */
export function migrationProvider(dialect: DialectName): MigrationProvider {
  return new StaticMigrationProvider(dialect);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function migrateToLatest(db: Kysely<any>, dialect: DialectName, options: { upTo?: string } = {}): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider(dialect) });
  // `upTo` (tests of a data migration): stop after the named migration.
  const { error, results } = options.upTo ? await migrator.migrateTo(options.upTo) : await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${String(error)}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Apply pending migrations to an open store (`newsletter migrate`); returns the names applied. */
export async function migrateStore(store: Store): Promise<string[]> {
  return migrateToLatest(store.db, store.dialect);
}
