import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, createTestStore, type TestStore } from './support/store.js';
import { migrateToLatest } from '../src/store/migrate.js';

describe.each(BACKENDS)('store schema on %s', (dialect) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.drop();
    store = undefined;
  });

  it('migrates an empty database, then is a no-op the second time', async () => {
    store = await createTestStore(dialect);
    const now = Date.now();
    const row = await store.db
      .insertInto('subscribers')
      .values({ email: 'a@example.com', name: 'A', status: 'active', attributes: '{}', status_reason: null, created_at: now, updated_at: now })
      .returning(['id', 'created_at'])
      .executeTakeFirstOrThrow();
    expect(row.id).toBeGreaterThan(0);
    expect(row.created_at).toBe(now);
    expect(typeof row.created_at).toBe('number');
    expect(await migrateToLatest(store.db, dialect)).toEqual([]);
  });

  it('keeps emails unique', async () => {
    store = await createTestStore(dialect);
    const values = { email: 'dup@example.com', name: null, status: 'active' as const, attributes: '{}', status_reason: null, created_at: 1, updated_at: 1 };
    await store.db.insertInto('subscribers').values(values).execute();
    await expect(store.db.insertInto('subscribers').values(values).execute()).rejects.toThrow();
  });
});
