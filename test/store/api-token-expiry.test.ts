/**
 * API token expiry and last use in the store, on both dialects: migration 0007 adds
 * expires_at to existing databases (old tokens never expire), an expired token is told
 * apart from an unknown one, and last_used_at is written at most once a minute.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ApiTokensRepository, hashApiToken, LAST_USED_RESOLUTION_MS } from '../../src/store/api-tokens-repository.js';
import { openStore, type Store } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { BACKENDS, createTestDatabase } from '../support/store.js';

describe.each(BACKENDS)('api tokens: expiry and last use on %s', (dialect) => {
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

  it('0007 adds expires_at to a database that has tokens: they keep working and never expire', async () => {
    const s = await open({ upTo: '0005-pause-note' });
    const token = 'nlt_from_before_the_migration';
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    await (s.db as any).insertInto('api_tokens').values({ name: 'old', role: 'admin', token_hash: hashApiToken(token), created_at: 1, last_used_at: null }).execute();
    expect(await migrateToLatest(s.db, s.dialect)).toContain('0007-token-expiry');
    const repo = new ApiTokensRepository(s.db, () => 10 * 365 * 86400_000);
    expect(await repo.check(token)).toMatchObject({ status: 'valid', token: { name: 'old', expires_at: null } });
  });

  it('a token created with an expiry is valid until then and expired after; unknown stays unknown', async () => {
    const s = await open();
    let now = 1_000_000;
    const repo = new ApiTokensRepository(s.db, () => now);
    const t = await repo.create('editor', 'ninety days', { expiresInMs: 90 * 86400_000 });
    expect(t.expires_at).toBe(1_000_000 + 90 * 86400_000);
    now = t.expires_at! - 1;
    expect((await repo.check(t.token)).status).toBe('valid');
    expect(await repo.isActive(t.id)).toBe(true);
    now = t.expires_at!;
    expect(await repo.check(t.token)).toMatchObject({ status: 'expired', token: { id: t.id, name: 'ninety days' } });
    expect(await repo.verify(t.token)).toBeUndefined();
    expect(await repo.isActive(t.id)).toBe(false);
    expect((await repo.check('nlt_nobody')).status).toBe('unknown');
    expect((await repo.list()).find((x) => x.id === t.id)?.expires_at).toBe(t.expires_at);
  });

  it('last_used_at is written at most once a minute per token, not on every request', async () => {
    const s = await open();
    let now = 5_000_000;
    const repo = new ApiTokensRepository(s.db, () => now);
    const t = await repo.create('editor', 'busy client');
    const lastUsed = async () => (await repo.list()).find((x) => x.id === t.id)!.last_used_at;
    expect(await lastUsed()).toBeNull();
    await repo.check(t.token);
    expect(await lastUsed()).toBe(5_000_000);
    for (const dt of [1, 1000, 30_000, LAST_USED_RESOLUTION_MS - 1]) {
      now = 5_000_000 + dt;
      expect((await repo.check(t.token)).status).toBe('valid');
      expect(await lastUsed(), `${dt} ms later`).toBe(5_000_000);
    }
    now = 5_000_000 + LAST_USED_RESOLUTION_MS;
    await repo.check(t.token);
    expect(await lastUsed()).toBe(now);
    // An expired token's use is not recorded.
    const old = await repo.create('admin', 'expired', { expiresInMs: 1 });
    now += 10 * LAST_USED_RESOLUTION_MS;
    await repo.check(old.token);
    expect((await repo.list()).find((x) => x.id === old.id)!.last_used_at).toBeNull();
  });
});
