import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type Dialect } from 'kysely';
import pg from 'pg';
import { ConfigError } from '../errors.js';
import type { Database } from './schema.js';
import { migrateToLatest } from './migrate.js';

export type DialectName = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: DialectName;
  destroy(): Promise<void>;
}

// int8 (COUNT(*), bigint timestamps) as JS numbers: epoch ms and counts fit in 2^53.
pg.types.setTypeParser(20, (v: string) => Number(v));
// numeric (AVG, SUM over numerics) as numbers too.
pg.types.setTypeParser(1700, (v: string) => Number(v));

export interface OpenStoreOptions {
  /** Run migrations before returning (default true). */
  migrate?: boolean;
  /** Postgres pool size (default 10). */
  poolSize?: number;
}

/**
 * Open the store named by a DATABASE_URL: `sqlite:PATH` (embedded, WAL, safe for
 * several processes on one machine) or `postgres://…` (several machines).
 */
export async function openStore(databaseUrl: string, options: OpenStoreOptions = {}): Promise<Store> {
  const { dialect, name } = createDialect(databaseUrl, options);
  const db = new Kysely<Database>({ dialect });
  const store: Store = { db, dialect: name, destroy: () => db.destroy() };
  if (options.migrate !== false) await migrateToLatest(db, name);
  return store;
}

/**
 * Kysely's SQLite driver prepares every query afresh; preparing costs more than running
 * the small hot-path statements of the send pipeline. Reuse prepared statements by SQL
 * text (bounded). better-sqlite3 is synchronous, so a statement is never run concurrently.
 */
function cachePreparedStatements(database: SQLite.Database, max = 500): void {
  const prepare = database.prepare.bind(database);
  const cache = new Map<string, SQLite.Statement>();
  database.prepare = ((source: string) => {
    let stmt = cache.get(source);
    if (!stmt) {
      stmt = prepare(source);
      if (cache.size >= max) cache.delete(cache.keys().next().value!);
      cache.set(source, stmt);
    }
    return stmt;
  }) as typeof database.prepare;
}

function createDialect(databaseUrl: string, options: OpenStoreOptions): { dialect: Dialect; name: DialectName } {
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length).replace(/^\/\//, '') || ':memory:';
    if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
    const database = new SQLite(path);
    database.pragma('journal_mode = WAL');
    // Several processes (CLI, server, workers) share the file: wait for locks instead of failing.
    database.pragma('busy_timeout = 10000');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    cachePreparedStatements(database);
    return { dialect: new SqliteDialect({ database }), name: 'sqlite' };
  }
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: options.poolSize ?? 10 });
    return { dialect: new PostgresDialect({ pool }), name: 'postgres' };
  }
  throw new ConfigError(`DATABASE_URL: unsupported scheme in "${databaseUrl}" (use sqlite:PATH or postgres://…)`);
}
