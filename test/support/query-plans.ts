/**
 * Query plans for the plan tests: run repository code over a Kysely handle that records every
 * statement it issues, then ask the database how it would run each one (Postgres `EXPLAIN`
 * with sequential scans disabled, so a tiny test table cannot hide a missing index; SQLite
 * `EXPLAIN QUERY PLAN`), and name the big tables a plan reads in full.
 */
import { sql, type CompiledQuery, type Kysely, type KyselyPlugin } from 'kysely';
import type { DialectName } from '../../src/store/db.js';
import type { Database } from '../../src/store/schema.js';

/** Tables that grow with subscribers or sends: a full scan of one is a failure. */
export const BIG_TABLES = ['subscribers', 'list_members', 'deliveries', 'events', 'suppressions', 'campaign_activity', 'campaign_link_clicks', 'campaign_delivery_counts', 'campaign_delivery_count_deltas', 'campaign_progress_counts', 'campaign_progress_count_deltas', 'campaign_engagement_marks', 'campaign_engagement_counts'];

export interface Recorder {
  db: Kysely<Database>;
  /** Statements recorded since the last `take`. */
  take(): CompiledQuery[];
}

export function recordingDb(db: Kysely<Database>): Recorder {
  let recorded: CompiledQuery[] = [];
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      recorded.push(db.getExecutor().compileQuery(args.node, args.queryId));
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  return {
    db: db.withPlugin(plugin),
    take() {
      const out = recorded;
      recorded = [];
      return out;
    },
  };
}

export async function planOf(db: Kysely<Database>, dialect: DialectName, query: CompiledQuery): Promise<string> {
  if (dialect === 'sqlite') {
    const rows = await db.executeQuery<{ detail: string }>({ ...query, sql: `EXPLAIN QUERY PLAN ${query.sql}` });
    return rows.rows.map((r) => r.detail).join('\n');
  }
  return db.connection().execute(async (conn) => {
    await sql`set enable_seqscan = off`.execute(conn);
    try {
      const rows = await conn.executeQuery<{ 'QUERY PLAN': string }>({ ...query, sql: `EXPLAIN ${query.sql}` });
      return rows.rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      await sql`reset enable_seqscan`.execute(conn);
    }
  });
}

/** Table names of `FROM/JOIN table AS alias` in a statement, by alias (and by name). */
function aliases(statement: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of BIG_TABLES) out.set(t, t);
  for (const m of statement.matchAll(/"?(\w+)"?\s+as\s+"?(\w+)"?/gi)) if (BIG_TABLES.includes(m[1]!)) out.set(m[2]!, m[1]!);
  return out;
}

/** The big tables the plan reads in full: Postgres `Seq Scan on t`; SQLite `SCAN t` (with or without an index: all of it). */
export function fullScans(dialect: DialectName, statement: string, plan: string): string[] {
  const names = aliases(statement);
  const found = new Set<string>();
  const re = dialect === 'postgres' ? /Seq Scan on (\w+)/g : /^\s*(?:SCAN|SCAN TABLE) (\w+)/gm;
  for (const m of plan.matchAll(re)) {
    const table = names.get(m[1]!);
    if (table) found.add(table);
  }
  return [...found];
}
