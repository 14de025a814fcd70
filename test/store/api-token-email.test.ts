/**
 * The token holder's address (migration 0009), on both dialects: added to a database that
 * has tokens (they keep working, with no address), stored when a token is created with one,
 * and handed back by check (the dashboard session carries it: the workspace's default test
 * recipient) and list.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ApiTokensRepository, hashApiToken } from '../../src/store/api-tokens-repository.js';
import { openStore, type Store } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { BACKENDS, createTestDatabase } from '../support/store.js';

describe.each(BACKENDS)('api tokens: the holder’s address on %s', (dialect) => {
  let store: Store | undefined;
  let remove: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await store?.destroy();
    await remove?.();
    store = undefined;
    remove = undefined;
  });

  async function open(options: { upTo?: string } = {}): Promise<Store> {
    const db = await createTestDatabase(dialect);
    remove = db.remove;
    store = await openStore(db.url, { migrate: false });
    await migrateToLatest(store.db, store.dialect, options);
    return store;
  }

  it('0009 adds email to a database that has tokens: they keep working, with no address', async () => {
    const s = await open({ upTo: '0008-campaign-activity' });
    const token = 'nlt_from_before_0009';
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    await (s.db as any).insertInto('api_tokens').values({ name: 'old', role: 'editor', token_hash: hashApiToken(token), created_at: 1, last_used_at: null, expires_at: null }).execute();
    expect(await migrateToLatest(s.db, s.dialect)).toContain('0009-token-email');
    expect(await new ApiTokensRepository(s.db).check(token)).toMatchObject({ status: 'valid', token: { name: 'old', email: null } });
  });

  it('a token created with an address gives it back on check and in the list', async () => {
    const s = await open();
    const repo = new ApiTokensRepository(s.db);
    const withEmail = await repo.create('editor', 'Ana', { email: 'ana@example.org' });
    const without = await repo.create('editor', 'CI');
    expect(withEmail.email).toBe('ana@example.org');
    expect(await repo.check(withEmail.token)).toMatchObject({ status: 'valid', token: { id: withEmail.id, email: 'ana@example.org' } });
    expect(await repo.check(without.token)).toMatchObject({ status: 'valid', token: { id: without.id, email: null } });
    expect((await repo.list()).map((t) => [t.name, t.email])).toEqual([
      ['Ana', 'ana@example.org'],
      ['CI', null],
    ]);
  });
});
