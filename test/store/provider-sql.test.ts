/**
 * The store's provider expression (providerOfEmailSql, compiled into the ledger counter
 * triggers) agrees with the pure module for every listed domain and for addresses off the list,
 * on both backends (SQLite compiles it as a simple CASE, PostgreSQL as IN-lists); and so does
 * SQLite's table lookup (providerLookupSqliteSql, in the counter triggers since migration 0025).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { BACKENDS, createTestStore, type TestStore } from '../support/store.js';
import { providerLookupSqliteSql, providerOfEmailSql } from '../../src/store/provider-sql.js';
import { PROVIDER_DOMAINS, providerOfEmail } from '../../src/events/mailbox-provider.js';

describe.each(BACKENDS)('providerOfEmailSql on %s', (dialect) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.drop();
    store = undefined;
  });

  const cases: Array<[string, (db: TestStore['db'], email: string) => ReturnType<typeof sql>]> = [['providerOfEmailSql', (db, email) => providerOfEmailSql(db, email)]];
  if (dialect === 'sqlite') cases.push(['providerLookupSqliteSql', (_db, email) => sql.raw(providerLookupSqliteSql(email))]);

  it.each(cases)('%s gives the module’s provider for every listed domain and for others', async (_name, expression) => {
    store = await createTestStore(dialect);
    const emails = [
      ...Object.values(PROVIDER_DOMAINS).flat().map((d) => `reader@${d}`),
      'reader@example.com', 'reader@gmail.co', 'reader@mail.gmail.com', 'reader@outlook.com.evil', 'no-at-sign', 'reader@',
    ];
    const values = sql.join(emails.map((e, i) => sql`(${i}, ${e})`));
    // PostgreSQL names a VALUES list's columns by alias; SQLite calls them column1, column2.
    const [i, email] = dialect === 'postgres' ? ['v.i', 'v.email'] : ['v.column1', 'v.column2'];
    const alias = dialect === 'postgres' ? sql`v(i, email)` : sql`v`;
    const rows = await sql<{ i: number; provider: string }>`
      select ${sql.ref(i)} as i, ${expression(store.db, email)} as provider from (values ${values}) as ${alias}`.execute(store.db);
    const got = new Map(rows.rows.map((r) => [Number(r.i), r.provider]));
    expect(got.size).toBe(emails.length);
    const listed = emails.filter((e) => providerOfEmail(e) !== 'other').length;
    expect(listed).toBeGreaterThan(500);
    for (const [i, email] of emails.entries()) expect([email, got.get(i)]).toEqual([email, providerOfEmail(email)]);
  });
});
