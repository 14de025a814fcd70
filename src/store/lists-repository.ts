import type { Kysely } from 'kysely';
import { InputError } from '../errors.js';
import type { Database, List } from './schema.js';

/** Lists by name. Names are trimmed and case-sensitive ("Weekly" ≠ "weekly"). */
export class ListsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The list with this name, created if missing (safe when two processes race). */
  async ensureList(name: string): Promise<List> {
    const clean = validListName(name);
    await this.db
      .insertInto('lists')
      .values({ name: clean, created_at: this.now() })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    return this.db.selectFrom('lists').selectAll().where('name', '=', clean).executeTakeFirstOrThrow();
  }

  async findByName(name: string): Promise<List | undefined> {
    return this.db.selectFrom('lists').selectAll().where('name', '=', name.trim()).executeTakeFirst();
  }

  async findById(id: number): Promise<List | undefined> {
    return this.db.selectFrom('lists').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async all(): Promise<List[]> {
    return this.db.selectFrom('lists').selectAll().orderBy('name').execute();
  }
}

function validListName(name: string): string {
  const clean = name.trim();
  // eslint-disable-next-line no-control-regex
  if (clean === '' || clean.length > 100 || /[\u0000-\u001f\u007f]/.test(clean)) {
    throw new InputError(`invalid list name "${name}" (1–100 printable characters)`);
  }
  return clean;
}
