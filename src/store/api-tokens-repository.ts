import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, TokenRole } from './schema.js';

export interface CreatedApiToken {
  id: number;
  name: string;
  role: TokenRole;
  /** The bearer token in plain text: shown once, never stored. */
  token: string;
}

export interface VerifiedApiToken {
  id: number;
  name: string;
  role: TokenRole;
}

const TOKEN_PREFIX = 'nlt_';

export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** API bearer tokens, stored as sha256 so a database leak does not leak credentials. */
export class ApiTokensRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  async create(role: TokenRole, name: string): Promise<CreatedApiToken> {
    if (role !== 'editor' && role !== 'admin') throw new TypeError(`unknown token role "${String(role)}"`);
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const row = await this.db
      .insertInto('api_tokens')
      .values({ name, role, token_hash: hashApiToken(token), created_at: this.now(), last_used_at: null })
      .returning(['id'])
      .executeTakeFirstOrThrow();
    return { id: row.id, name, role, token };
  }

  /**
   * The token's identity, or undefined. The lookup is by hash (an attacker cannot steer
   * which row matches without knowing a preimage); the final comparison is constant-time.
   */
  async verify(token: string): Promise<VerifiedApiToken | undefined> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 200) return undefined;
    const presented = Buffer.from(hashApiToken(token), 'hex');
    const row = await this.db
      .selectFrom('api_tokens')
      .select(['id', 'name', 'role', 'token_hash'])
      .where('token_hash', '=', presented.toString('hex'))
      .executeTakeFirst();
    if (!row) return undefined;
    const stored = Buffer.from(row.token_hash, 'hex');
    if (stored.length !== presented.length || !timingSafeEqual(stored, presented)) return undefined;
    await this.db.updateTable('api_tokens').set({ last_used_at: this.now() }).where('id', '=', row.id).execute();
    return { id: row.id, name: row.name, role: row.role };
  }

  async list(): Promise<Array<VerifiedApiToken & { created_at: number; last_used_at: number | null }>> {
    return this.db.selectFrom('api_tokens').select(['id', 'name', 'role', 'created_at', 'last_used_at']).orderBy('id').execute();
  }

  /** Whether a token still exists (a dashboard session dies with its token). */
  async exists(id: number): Promise<boolean> {
    return (await this.db.selectFrom('api_tokens').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
  }

  async revoke(id: number): Promise<boolean> {
    const result = await this.db.deleteFrom('api_tokens').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
