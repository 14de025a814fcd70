import type { Kysely, Migration } from 'kysely';
import type { DialectName } from '../db.js';

/**
 * API tokens may expire: `expires_at` (epoch ms; null = never). Tokens created before stay
 * unlimited. `last_used_at` already exists; it is now written at most once a minute per
 * token (ApiTokensRepository.verify). Touches only api_tokens, so it is independent of
 * any other migration.
 */
export function tokenExpiry(_dialect: DialectName): Migration {
  return {
    /* eslint-disable @typescript-eslint/no-explicit-any */
    async up(db: Kysely<any>) {
      await db.schema.alterTable('api_tokens').addColumn('expires_at', 'bigint').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('api_tokens').dropColumn('expires_at').execute();
    },
  };
}
