import type { Kysely, Migration } from 'kysely';
import type { DialectName } from '../db.js';

/**
 * Scratch table for CSV import: the addresses one import run has seen, with the line of
 * their first occurrence. Duplicate detection then costs database rows, not process
 * memory, so an import's memory stays flat however long the file is. Rows are deleted
 * when the run ends (and stale rows of crashed runs after a day).
 */
export function importSeen(_dialect: DialectName): Migration {
  return {
    /* eslint-disable @typescript-eslint/no-explicit-any */
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('import_seen')
        .addColumn('import_id', 'text', (c) => c.notNull())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('line', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('import_seen_pk', ['import_id', 'email'])
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('import_seen').ifExists().execute();
    },
  };
}
