/**
 * Issue #15: every SQLite connection openStore makes keeps SQLite's own 2 MB page cache, not
 * better-sqlite3's 16 MB build default (a worker's peak RSS during a 100,000-subscriber
 * campaign carried the difference).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';

const dir = mkdtempSync(join(tmpdir(), 'nl-page-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the SQLite page cache', () => {
  it("is SQLite's 2 MB default, not better-sqlite3's 16 MB, on a file store and an in-memory one", async () => {
    for (const url of [`sqlite:${join(dir, 'cache.db')}`, 'sqlite::memory:']) {
      const store = await openStore(url);
      try {
        const { rows } = await sql<{ cache_size: number }>`pragma cache_size`.execute(store.db);
        expect(rows[0]?.cache_size, url).toBe(-2000);
      } finally {
        await store.destroy();
      }
    }
  });
});
