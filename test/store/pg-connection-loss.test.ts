/**
 * A Postgres connection that ends while the pool has lent it out (here: inside a transaction,
 * between two of its queries — what a database restart does to a busy process) must not crash
 * the process: the transaction fails, and the next query runs on a fresh connection.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { sql } from 'kysely';
import { createTestStore, TEST_POSTGRES_URL, type TestStore } from '../support/store.js';
import { sleep } from '../support/wait.js';

let store: TestStore | undefined;
afterEach(async () => {
  await store?.drop();
  store = undefined;
});

describe('postgres connection loss', () => {
  it('a checked-out client terminated by the server fails its transaction, not the process; the store goes on', async () => {
    store = await createTestStore('postgres');
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    try {
      const tx = store.db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        // 57P01 "terminating connection due to administrator command", as a restart sends it.
        await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
        // No query in flight on this client now: the 'error' event has only our listener to go to.
        await sleep(300);
        await sql`select 1`.execute(trx);
      });
      await expect(tx).rejects.toThrow();
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(store.db);
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await admin.end();
    }
  });
});
