/**
 * Fresh stores for integration tests: a temporary SQLite file, and a new Postgres
 * database on the server at TEST_POSTGRES_URL (default: the machine's, database `test`),
 * dropped afterwards. Every test gets its own, so test files can run in parallel.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type DialectName, type Store } from '../../src/store/db.js';

export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestStore extends Store {
  url: string;
  /** Destroy the connection and delete the database. */
  drop(): Promise<void>;
}

export const BACKENDS: DialectName[] = ['sqlite', 'postgres'];

/** A database URL for a fresh, empty database of the given dialect, and a function that removes it. */
export async function createTestDatabase(dialect: DialectName): Promise<{ url: string; remove: () => Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'newsletter-test-'));
    return { url: `sqlite:${join(dir, 'test.db')}`, remove: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `nl_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    remove: async () => {
      const c = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function createTestStore(dialect: DialectName): Promise<TestStore> {
  const { url, remove } = await createTestDatabase(dialect);
  const store = await openStore(url);
  return {
    ...store,
    url,
    drop: async () => {
      await store.destroy();
      await remove();
    },
  };
}
