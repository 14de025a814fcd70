import type { Kysely, Migration } from 'kysely';
import type { DialectName } from '../db.js';

/**
 * An API token may name its holder's email address (`tokens create --email`): the editor
 * workspace sends test copies there by default. Null for tokens without one (CI tokens).
 * Touches only api_tokens.
 */
export function tokenEmail(_dialect: DialectName): Migration {
  return {
    /* eslint-disable @typescript-eslint/no-explicit-any */
    async up(db: Kysely<any>) {
      await db.schema.alterTable('api_tokens').addColumn('email', 'text').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('api_tokens').dropColumn('email').execute();
    },
  };
}
