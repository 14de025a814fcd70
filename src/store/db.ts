import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type SQLite from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, sql, SqliteDialect, SqliteDriver, type DatabaseConnection, type Dialect, type Driver, type SqliteDatabase, type SqliteDialectConfig, type SqliteStatement, type TransactionSettings } from 'kysely';
import type pg from 'pg';
import { ConfigError } from '../errors.js';
import type { Database } from './schema.js';
import { migrateToLatest } from './migrate.js';

export type DialectName = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: DialectName;
  destroy(): Promise<void>;
}

/**
 * Each database driver is imported when a store of its dialect is first opened, not at module
 * load: a process uses one dialect, and the other driver (pg's protocol and type parsers, or
 * better-sqlite3's native addon) only costs memory — the worker's start-up RSS above all
 * (issue #15; test/lint/worker-imports.test.ts).
 */
let pgModule: Promise<typeof pg> | undefined;
function loadPg(): Promise<typeof pg> {
  pgModule ??= import('pg').then((m) => {
    const driver = m.default;
    // int8 (COUNT(*), bigint timestamps) as JS numbers: epoch ms and counts fit in 2^53.
    driver.types.setTypeParser(20, (v: string) => Number(v));
    // numeric (AVG, SUM over numerics) as numbers too.
    driver.types.setTypeParser(1700, (v: string) => Number(v));
    return driver;
  });
  return pgModule;
}

export interface OpenStoreOptions {
  /** Run migrations before returning (default true). */
  migrate?: boolean;
  /** Postgres pool size (default 10). */
  poolSize?: number;
  /** Told when a Postgres connection fails outside a query (default: a rate-limited process warning). */
  onConnectionError?: (err: Error) => void;
}

/**
 * A database restart ends every pooled connection at once: say so once every few seconds,
 * not once per connection. The queries that were running fail on their own and are retried
 * by their callers. `say` gets the line (default: a process warning); a composition root
 * passes its logger, so a CLI command with a silent log adds nothing after its own last line.
 */
export function createConnectionErrorReporter(
  say: (line: string, err: Error) => void = (line) => process.emitWarning(line),
  everyMs = 5000,
): (err: Error) => void {
  let last = 0;
  let suppressed = 0;
  return (err) => {
    const now = Date.now();
    if (now - last < everyMs) {
      suppressed++;
      return;
    }
    const more = suppressed > 0 ? ` (and ${suppressed} more since the last warning)` : '';
    last = now;
    suppressed = 0;
    say(`postgres connection lost: ${err.message}${more}; reconnecting on the next query`, err);
  };
}
const defaultConnectionErrorReporter = createConnectionErrorReporter();

/**
 * Open the store named by a DATABASE_URL: `sqlite:PATH` (embedded, WAL, safe for
 * several processes on one machine) or `postgres://…` (several machines).
 */
export async function openStore(databaseUrl: string, options: OpenStoreOptions = {}): Promise<Store> {
  const { dialect, name } = await createDialect(databaseUrl, options);
  const db = new Kysely<Database>({ dialect });
  const store: Store = { db, dialect: name, destroy: () => db.destroy() };
  if (options.migrate !== false) await migrateToLatest(db, name);
  return store;
}

/** Resolve if the store answers a trivial query within `timeoutMs`; reject with the reason otherwise. */
export async function pingStore(store: Store, timeoutMs = 2000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      sql`select 1`.execute(store.db),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Kysely's SQLite driver prepares every query anew; preparing costs about a third of a
 * small query's time. Cache prepared statements by SQL text (bounded). Kysely runs one
 * query at a time per connection, and a statement still iterating is never reused.
 */
function withStatementCache(database: SQLite.Database, limit = 500): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare: (sql: string) => {
      const cached = cache.get(sql);
      if (cached && !cached.busy) return cached as unknown as SqliteStatement;
      const statement = database.prepare(sql);
      if (!cached) {
        if (cache.size >= limit) cache.delete(cache.keys().next().value!);
        cache.set(sql, statement);
      }
      return statement as unknown as SqliteStatement;
    },
  };
}

/**
 * Kysely's SQLite driver opens every transaction with a plain (deferred) `begin`: it takes
 * the write lock only at its first write. A transaction that reads first and then writes,
 * while another process (a second server, a worker, an import) committed in between, is
 * refused at that write with SQLITE_BUSY ("database is locked") at once: SQLite cannot
 * wait for a lock there without risking deadlock, so busy_timeout does not apply. `begin
 * immediate` takes the write lock at the start, where busy_timeout does wait. Transactions
 * started with `setAccessMode('read only')` stay deferred.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection, settings?: TransactionSettings): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(settings?.accessMode === 'read only' ? 'begin' : 'begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly sqliteConfig: SqliteDialectConfig) {
    super(sqliteConfig);
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.sqliteConfig);
  }
}

/**
 * SQLite's page cache per connection, as `PRAGMA cache_size` (negative = KiB). better-sqlite3 is
 * built with SQLITE_DEFAULT_CACHE_SIZE=-16000 (16 MB per connection) where SQLite's own default
 * is 2 MB. A sending worker streams through the ledger and the audience once, so a large cache
 * buys it nothing; the operating system's page cache still holds the file. The 16 MB filled up
 * during a 100,000-subscriber campaign and came straight out of the worker's RSS budget
 * (issue #15: ~14 MB of its peak, 225 -> 212 MB; bench/send.ts --memory). test/store/sqlite-page-cache.test.ts.
 */
export const SQLITE_CACHE_SIZE_KIB = 2000;

async function createDialect(databaseUrl: string, options: OpenStoreOptions): Promise<{ dialect: Dialect; name: DialectName }> {
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length).replace(/^\/\//, '') || ':memory:';
    if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
    const { default: SQLiteDatabase } = await import('better-sqlite3');
    const database = new SQLiteDatabase(path);
    database.pragma('journal_mode = WAL');
    // Several processes (CLI, server, workers) share the file: wait for locks instead of failing.
    database.pragma('busy_timeout = 10000');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    database.pragma(`cache_size = -${SQLITE_CACHE_SIZE_KIB}`);
    return { dialect: new ImmediateSqliteDialect({ database: withStatementCache(database) }), name: 'sqlite' };
  }
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    const driver = await loadPg();
    const pool = new driver.Pool({ connectionString: databaseUrl, max: options.poolSize ?? 10 });
    // A client whose server connection ends (Postgres restart, admin termination, network loss)
    // emits 'error'; unhandled, that crashes the process. pg-pool listens only while a client is
    // idle (and re-emits on the pool); a checked-out client (inside a transaction, between two of
    // its queries) has no listener of its own. So every client gets one for its whole life: the
    // query in flight (if any) rejects on its own, and the pool drops the dead client on release
    // (it is no longer queryable), so the next query opens a fresh connection.
    const warn = options.onConnectionError ?? defaultConnectionErrorReporter;
    pool.on('connect', (client) => client.on('error', (err) => warn(err)));
    pool.on('error', (err) => warn(err));
    return { dialect: new PostgresDialect({ pool }), name: 'postgres' };
  }
  throw new ConfigError(`DATABASE_URL: unsupported scheme in "${databaseUrl}" (use sqlite:PATH or postgres://…)`);
}
