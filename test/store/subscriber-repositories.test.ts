import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, createTestStore, type TestStore } from '../support/store.js';
import { createSubscriberRepositories, type SubscriberRepositories } from '../../src/store/repositories.js';
import { InputError } from '../../src/errors.js';

describe.each(BACKENDS)('subscriber repositories on %s', (dialect) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.drop();
    store = undefined;
  });

  async function setup(): Promise<SubscriberRepositories> {
    store = await createTestStore(dialect);
    return createSubscriberRepositories(store.db);
  }

  it('normalises addresses, validates them and upserts without touching status', async () => {
    const r = await setup();
    const first = await r.subscribers.upsert({ email: '  Ada@Example.COM ', name: 'Ada\r\nLovelace', attributes: { city: 'London' } });
    expect(first.created).toBe(true);
    expect(first.subscriber.email).toBe('ada@example.com');
    expect(first.subscriber.name).toBe('Ada Lovelace');
    await r.subscribers.setStatusByEmail('ADA@example.com', 'bounced', 'Permanent/General');
    const again = await r.subscribers.upsert({ email: 'ada@EXAMPLE.com', attributes: { lang: 'en' } });
    expect(again.created).toBe(false);
    expect(again.subscriber.id).toBe(first.subscriber.id);
    expect(again.subscriber.status).toBe('bounced');
    expect(again.subscriber.name).toBe('Ada Lovelace');
    expect(JSON.parse(again.subscriber.attributes)).toEqual({ city: 'London', lang: 'en' });
    expect((await r.subscribers.findByEmail('ADA@EXAMPLE.COM'))?.status_reason).toBe('Permanent/General');
    for (const bad of ['', 'no-at-sign', 'a@b', 'a b@example.com', 'a@exa_mple.com', 'a..b@example.com', 'a@example.com\r\nBcc: x@y.z']) {
      await expect(r.subscribers.upsert({ email: bad }), bad).rejects.toBeInstanceOf(InputError);
    }
    await expect(r.subscribers.upsert({ email: 'ok@example.com', name: 'bell\u0007' })).rejects.toBeInstanceOf(InputError);
    expect(await r.subscribers.count()).toBe(1);
  });

  it('ensureList is idempotent and addToList never resubscribes', async () => {
    const r = await setup();
    const list = await r.lists.ensureList('weekly');
    expect((await r.lists.ensureList(' weekly ')).id).toBe(list.id);
    const { subscriber } = await r.subscribers.upsert({ email: 'b@example.com' });
    expect(await r.listMembers.addToList(subscriber.id, list.id)).toBe(true);
    expect(await r.listMembers.addToList(subscriber.id, list.id)).toBe(false);
    await r.subscribers.unsubscribe(subscriber.id, list.id);
    expect(await r.listMembers.addToList(subscriber.id, list.id)).toBe(false);
    expect((await r.listMembers.find(subscriber.id, list.id))?.status).toBe('unsubscribed');
    expect((await r.subscribers.findById(subscriber.id))?.status).toBe('unsubscribed');
    expect(await r.listMembers.membershipsOf(subscriber.id)).toMatchObject([{ listName: 'weekly', status: 'unsubscribed' }]);
  });

  it('unsubscribe keeps a bounced status', async () => {
    const r = await setup();
    const list = await r.lists.ensureList('default');
    const { subscriber } = await r.subscribers.upsert({ email: 'c@example.com' });
    await r.listMembers.addToList(subscriber.id, list.id);
    await r.subscribers.setStatusByEmail('c@example.com', 'bounced', 'hard');
    expect(await r.subscribers.unsubscribe(subscriber.id, list.id)).toBe(true);
    expect((await r.subscribers.findById(subscriber.id))?.status).toBe('bounced');
    expect(await r.subscribers.unsubscribe(99999, list.id)).toBe(false);
  });

  it('search by substring of address or name, case-insensitive, follows renames and erasures (SQLite: through the trigram table, migration 0018)', async () => {
    const r = await setup();
    const emails = async (q: string) => (await r.subscribers.search({ q, limit: 50, offset: 0 })).emails;
    await r.subscribers.upsert({ email: 'reader12345@example.com', name: 'Ada Lovelace' });
    await r.subscribers.upsert({ email: 'other@example.org', name: 'Grace "Amazing" Hopper' });
    await r.subscribers.upsert({ email: 'percent@example.net', name: '100% Emile' });
    expect(await emails('READER123')).toEqual(['reader12345@example.com']);
    expect(await emails('example')).toEqual(['reader12345@example.com', 'other@example.org', 'percent@example.net']);
    expect(await emails('lovelace')).toEqual(['reader12345@example.com']);
    expect(await emails('"amazing"')).toEqual(['other@example.org']);
    // LIKE's wildcards are literal characters, as before.
    expect(await emails('0% e')).toEqual(['percent@example.net']);
    expect(await emails('x%e')).toEqual([]);
    // Shorter than a trigram: still a substring search.
    expect(await emails('.n')).toEqual(['percent@example.net']);
    expect(await r.subscribers.search({ q: 'ample', limit: 1, offset: 1 })).toEqual({ emails: ['other@example.org'], total: 3 });
    // A changed name is found by its new text only; an erased subscriber by nothing.
    await r.subscribers.upsert({ email: 'other@example.org', name: 'Grace Brewster' });
    expect(await emails('hopper')).toEqual([]);
    expect(await emails('brewster')).toEqual(['other@example.org']);
    await r.subscribers.remove('reader12345@example.com');
    expect(await emails('reader')).toEqual([]);
    expect(await emails('lovelace')).toEqual([]);
  });

  it('remove deletes personal data and keeps a suppression', async () => {
    const r = await setup();
    const list = await r.lists.ensureList('default');
    const { subscriber } = await r.subscribers.upsert({ email: 'd@example.com', name: 'Dee', attributes: { phone: '123' } });
    await r.listMembers.addToList(subscriber.id, list.id);
    expect(await r.subscribers.remove('D@Example.com')).toBe(true);
    expect(await r.subscribers.findByEmail('d@example.com')).toBeUndefined();
    expect(await r.listMembers.membershipsOf(subscriber.id)).toEqual([]);
    expect(await r.suppressions.find('d@example.com')).toMatchObject({ email: 'd@example.com', reason: 'removed' });
    expect(await r.subscribers.remove('d@example.com')).toBe(false);
    // A bounce suppression recorded first keeps its reason.
    expect(await r.suppressions.suppress('E@example.com', 'bounced', 'mailbox full')).toBe(true);
    expect(await r.suppressions.suppress('e@example.com', 'complained', null)).toBe(false);
    await r.subscribers.remove('e@example.com');
    expect((await r.suppressions.find('e@example.com'))?.reason).toBe('bounced');
    expect(await r.suppressions.isSuppressed('E@EXAMPLE.COM')).toBe(true);
    expect(await r.suppressions.isSuppressed('f@example.com')).toBe(false);
  });

  it('audience pages by keyset and excludes unsubscribed, bounced, complained and suppressed', async () => {
    const r = await setup();
    const list = await r.lists.ensureList('default');
    const other = await r.lists.ensureList('other');
    const ids: Record<string, number> = {};
    for (let i = 0; i < 25; i++) {
      const email = `u${String(i).padStart(2, '0')}@example.com`;
      const { subscriber } = await r.subscribers.upsert({ email, name: `U${i}` });
      ids[email] = subscriber.id;
      await r.listMembers.addToList(subscriber.id, list.id);
    }
    const notMember = await r.subscribers.upsert({ email: 'other@example.com' });
    await r.listMembers.addToList(notMember.subscriber.id, other.id);
    await r.subscribers.unsubscribe(ids['u01@example.com']!, list.id);
    await r.subscribers.setStatusByEmail('u02@example.com', 'bounced', 'hard');
    await r.subscribers.setStatusByEmail('u03@example.com', 'complained', 'abuse');
    await r.suppressions.suppress('u04@example.com', 'ses-suppression-list', null);
    await r.subscribers.remove('u05@example.com');
    const excluded = ['u01', 'u02', 'u03', 'u04', 'u05'].map((u) => `${u}@example.com`);

    const seen: string[] = [];
    let afterId = 0;
    let pages = 0;
    for (;;) {
      const page = await r.audience.audiencePage({ listId: list.id, afterId, limit: 7 });
      if (page.length === 0) break;
      pages++;
      expect(page.length).toBeLessThanOrEqual(7);
      seen.push(...page.map((m) => m.email));
      afterId = page.at(-1)!.id;
    }
    expect(pages).toBe(3);
    expect(seen).toHaveLength(20);
    expect(seen).toEqual([...seen].sort());
    for (const e of excluded) expect(seen).not.toContain(e);
    expect(seen).not.toContain('other@example.com');
    expect(await r.audience.audienceCount({ listId: list.id })).toBe(20);

    for (const e of excluded.slice(0, 4)) expect(await r.audience.isMailable(ids[e]!, list.id)).toBe(false);
    expect(await r.audience.isMailable(ids['u06@example.com']!, list.id)).toBe(true);
    expect(await r.audience.isMailable(notMember.subscriber.id, list.id)).toBe(false);

    // Freeze: ids above the snapshot are excluded.
    const max = ids['u10@example.com']!;
    const frozen = await r.audience.audiencePage({ listId: list.id, afterId: 0, limit: 100, maxSubscriberId: max });
    expect(frozen.every((m) => m.id <= max)).toBe(true);
    expect(frozen.map((m) => m.email)).toEqual(['u00', 'u06', 'u07', 'u08', 'u09', 'u10'].map((u) => `${u}@example.com`));
    expect(await r.audience.audienceCount({ listId: list.id, maxSubscriberId: max })).toBe(6);
  });

  it('audience joinedBefore excludes memberships created at or after the instant', async () => {
    store = await createTestStore(dialect);
    let clock = 1_000;
    const r = createSubscriberRepositories(store.db, () => clock);
    const list = await r.lists.ensureList('default');
    const early = await r.subscribers.upsert({ email: 'early@example.com' });
    await r.listMembers.addToList(early.subscriber.id, list.id);
    clock = 2_000;
    const late = await r.subscribers.upsert({ email: 'late@example.com' });
    await r.listMembers.addToList(late.subscriber.id, list.id);
    const page = await r.audience.audiencePage({ listId: list.id, afterId: 0, limit: 10, joinedBefore: 2_000 });
    expect(page.map((m) => m.email)).toEqual(['early@example.com']);
    expect(await r.audience.audienceCount({ listId: list.id, joinedBefore: 2_001 })).toBe(2);
  });

  it('stored audience sizes (migration 0021): per list, an older count never replaces a later one, gone with the list', async () => {
    const r = await setup();
    const a = await r.lists.ensureList('a');
    const b = await r.lists.ensureList('b');
    expect(await r.audience.storedSize(a.id)).toBeUndefined();
    await r.audience.storeSize(a.id, { n: 10, countedAt: 2_000 });
    await r.audience.storeSize(b.id, { n: 3, countedAt: 1_000 });
    // Two servers recounting at once: the count that began later stays, whichever lands last.
    await r.audience.storeSize(a.id, { n: 9, countedAt: 1_500 });
    expect(await r.audience.storedSize(a.id)).toEqual({ n: 10, countedAt: 2_000 });
    await r.audience.storeSize(a.id, { n: 1_000_000, countedAt: 3_000 });
    expect(await r.audience.storedSize(a.id)).toEqual({ n: 1_000_000, countedAt: 3_000 });
    expect(await r.audience.storedSize(b.id)).toEqual({ n: 3, countedAt: 1_000 });
    await store!.db.deleteFrom('lists').where('id', '=', b.id).execute();
    expect(await r.audience.storedSize(b.id)).toBeUndefined();
  });

  it('api tokens: plaintext once, stored hashed, verified', async () => {
    const r = await setup();
    const created = await r.apiTokens.create('editor', 'ci');
    expect(created.token).toMatch(/^nlt_[A-Za-z0-9_-]{43}$/);
    const stored = await store!.db.selectFrom('api_tokens').selectAll().executeTakeFirstOrThrow();
    expect(stored.token_hash).not.toContain(created.token);
    expect(stored.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await r.apiTokens.verify(created.token)).toEqual({ id: created.id, name: 'ci', role: 'editor', expires_at: null, email: null });
    expect(await r.apiTokens.verify(created.token.slice(0, -1) + (created.token.endsWith('A') ? 'B' : 'A'))).toBeUndefined();
    expect(await r.apiTokens.verify('')).toBeUndefined();
    expect((await r.apiTokens.list())[0]?.last_used_at).not.toBeNull();
    expect(await r.apiTokens.revoke(created.id)).toBe(true);
    expect(await r.apiTokens.verify(created.token)).toBeUndefined();
  });
});
