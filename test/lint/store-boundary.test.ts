/**
 * The ESLint rule that keeps SQL in src/store/ (eslint.config.js): a planted query outside
 * the store fails the lint; the same text inside src/store/ passes.
 */
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

async function boundaryMessages(code: string, filePath: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, filePath) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax').map((m) => `${m.ruleId}: ${m.message}`);
}

const KYSELY_QUERY = `import { sql } from 'kysely';
import type { Store } from '../store/db.js';

export async function planted(store: Store): Promise<number> {
  const row = await store.db.selectFrom('subscribers').select(sql<number>\`count(*)\`.as('n')).executeTakeFirstOrThrow();
  return row.n;
}
`;

const DESTRUCTURED_HANDLE = `import type { Store } from '../store/db.js';

export async function planted(store: Store): Promise<void> {
  const { db } = store;
  await db.deleteFrom('subscribers').execute();
}
`;

const TYPE_ONLY_KYSELY = `import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

export type Handle = Kysely<Database>;
`;

const SCHEMA_TYPES = `import type { Subscriber } from '../store/schema.js';

export const emailOf = (s: Subscriber): string => s.email;
`;

describe('ESLint store boundary (SQL only in src/store/)', () => {
  it('reports a kysely import and a store.db query in domain code', async () => {
    const messages = await boundaryMessages(KYSELY_QUERY, 'src/signup/planted.ts');
    expect(messages.filter((m) => m.startsWith('no-restricted-imports'))).toHaveLength(1);
    expect(messages.filter((m) => m.startsWith('no-restricted-syntax'))).toHaveLength(1);
    expect(messages.join('\n')).toMatch(/SQL lives in src\/store\//);
  });

  it('reports a destructured db handle, in HTTP and worker code alike', async () => {
    expect(await boundaryMessages(DESTRUCTURED_HANDLE, 'src/http/api/planted.ts')).toHaveLength(1);
    expect(await boundaryMessages(DESTRUCTURED_HANDLE, 'workers/planted.ts')).toHaveLength(1);
  });

  it('reports a type-only Kysely import (a handle passed around) but not schema row types', async () => {
    expect(await boundaryMessages(TYPE_ONLY_KYSELY, 'src/campaigns/planted.ts')).toHaveLength(1);
    expect(await boundaryMessages(SCHEMA_TYPES, 'src/campaigns/planted.ts')).toEqual([]);
  });

  it('accepts the same text inside src/store/ and in test/ and bench/', async () => {
    for (const code of [KYSELY_QUERY, DESTRUCTURED_HANDLE, TYPE_ONLY_KYSELY]) {
      expect(await boundaryMessages(code, 'src/store/planted.ts')).toEqual([]);
      expect(await boundaryMessages(code, 'test/support/planted.ts')).toEqual([]);
      expect(await boundaryMessages(code, 'bench/planted.ts')).toEqual([]);
    }
  });
});
