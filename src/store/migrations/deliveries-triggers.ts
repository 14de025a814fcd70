import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../db.js';

/** One side of a statement's change: its new rows counted +, its old rows −. */
export interface DeltaSide {
  rows: 'new_rows' | 'old_rows';
  sign: '+' | '-';
}

/**
 * PostgreSQL: the statement-level delta triggers on `deliveries` that the counter migrations
 * (0015, 0019) share. One plpgsql function `fn` runs `insertDelta` over the statement's transition
 * tables (INSERT: new +; UPDATE: new +, old −; DELETE: old −), called by AFTER INSERT / UPDATE /
 * DELETE triggers `${prefix}_insert|_update|_delete` FOR EACH STATEMENT.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
export async function createStatementDeltaTriggers(trx: Kysely<any>, fn: string, prefix: string, insertDelta: (sides: DeltaSide[]) => string): Promise<void> {
  const body = `
    begin
      if tg_op = 'INSERT' then
        ${insertDelta([{ rows: 'new_rows', sign: '+' }])}
      elsif tg_op = 'UPDATE' then
        ${insertDelta([{ rows: 'new_rows', sign: '+' }, { rows: 'old_rows', sign: '-' }])}
      else
        ${insertDelta([{ rows: 'old_rows', sign: '-' }])}
      end if;
      return null;
    end`;
  await sql.raw(`create function ${fn}() returns trigger language plpgsql as $body$${body}$body$`).execute(trx);
  await sql.raw(`create trigger ${prefix}_insert after insert on deliveries referencing new table as new_rows for each statement execute function ${fn}()`).execute(trx);
  await sql.raw(`create trigger ${prefix}_update after update on deliveries referencing old table as old_rows new table as new_rows for each statement execute function ${fn}()`).execute(trx);
  await sql.raw(`create trigger ${prefix}_delete after delete on deliveries referencing old table as old_rows for each statement execute function ${fn}()`).execute(trx);
}

/** Drop the `${prefix}_insert|_update|_delete` triggers on `deliveries` (either backend) and, on PostgreSQL, their function `fn`. */
export async function dropDeliveriesTriggers(db: Kysely<any>, dialect: DialectName, fn: string, prefix: string): Promise<void> {
  for (const op of ['insert', 'update', 'delete']) {
    await sql.raw(`drop trigger if exists ${prefix}_${op}${dialect === 'postgres' ? ' on deliveries' : ''}`).execute(db);
  }
  if (dialect === 'postgres') await sql.raw(`drop function if exists ${fn}()`).execute(db);
}
