import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, TokenRole } from './schema.js';

export interface CreatedApiToken {
  id: number;
  name: string;
  role: TokenRole;
  /** Epoch ms, or null for a token that never expires. */
  expires_at: number | null;
  email: string | null;
  /** The bearer token in plain text: shown once, never stored. */
  token: string;
}

export interface VerifiedApiToken {
  id: number;
  name: string;
  role: TokenRole;
  expires_at: number | null;
  /** The holder's address, when the token was created with one. */
  email: string | null;
}

export type ApiTokenListItem = VerifiedApiToken & { created_at: number; last_used_at: number | null };

/**
 * What a presented token is: unknown (no such token), expired (known, past expires_at:
 * refused, with a message saying so), or valid.
 */
export type ApiTokenCheck = { status: 'unknown' } | { status: 'expired'; token: VerifiedApiToken } | { status: 'valid'; token: VerifiedApiToken };

/** last_used_at is refreshed at most this often per token: a read per request, not a write. */
export const LAST_USED_RESOLUTION_MS = 60_000;

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

  /** A new token; `expiresInMs` (e.g. 90 days) makes it expire, undefined = never. */
  async create(role: TokenRole, name: string, options: { expiresInMs?: number; email?: string | null } = {}): Promise<CreatedApiToken> {
    if (role !== 'editor' && role !== 'admin') throw new TypeError(`unknown token role "${String(role)}"`);
    if (options.expiresInMs !== undefined && !(options.expiresInMs > 0)) throw new TypeError('expiresInMs must be positive');
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const now = this.now();
    const expires_at = options.expiresInMs !== undefined ? now + options.expiresInMs : null;
    const email = options.email ?? null;
    const row = await this.db
      .insertInto('api_tokens')
      .values({ name, role, token_hash: hashApiToken(token), created_at: now, last_used_at: null, expires_at, email })
      .returning(['id'])
      .executeTakeFirstOrThrow();
    return { id: row.id, name, role, expires_at, email, token };
  }

  /**
   * The token's identity, or undefined (unknown or expired: see `check` for which).
   */
  async verify(token: string): Promise<VerifiedApiToken | undefined> {
    const result = await this.check(token);
    return result.status === 'valid' ? result.token : undefined;
  }

  /**
   * What a presented token is. The lookup is by hash (an attacker cannot steer which row
   * matches without knowing a preimage); the final comparison is constant-time. A valid
   * token's last_used_at is written only when the stored value is a minute old or more, so
   * a busy client costs one read per request and one write a minute.
   */
  async check(token: string): Promise<ApiTokenCheck> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 200) return { status: 'unknown' };
    const presented = Buffer.from(hashApiToken(token), 'hex');
    const row = await this.db
      .selectFrom('api_tokens')
      .select(['id', 'name', 'role', 'token_hash', 'last_used_at', 'expires_at', 'email'])
      .where('token_hash', '=', presented.toString('hex'))
      .executeTakeFirst();
    if (!row) return { status: 'unknown' };
    const stored = Buffer.from(row.token_hash, 'hex');
    if (stored.length !== presented.length || !timingSafeEqual(stored, presented)) return { status: 'unknown' };
    const identity: VerifiedApiToken = { id: row.id, name: row.name, role: row.role, expires_at: row.expires_at, email: row.email };
    const now = this.now();
    if (row.expires_at !== null && row.expires_at <= now) return { status: 'expired', token: identity };
    if (row.last_used_at === null || now - row.last_used_at >= LAST_USED_RESOLUTION_MS) {
      // Conditional: of several servers refreshing at once, the first write wins and the rest match nothing.
      await this.db
        .updateTable('api_tokens')
        .set({ last_used_at: now })
        .where('id', '=', row.id)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', now - LAST_USED_RESOLUTION_MS)]))
        .execute();
    }
    return { status: 'valid', token: identity };
  }

  async list(): Promise<ApiTokenListItem[]> {
    return this.db.selectFrom('api_tokens').select(['id', 'name', 'role', 'created_at', 'last_used_at', 'expires_at', 'email']).orderBy('id').execute();
  }

  /** Whether a token still exists (a dashboard session dies with its token). */
  async exists(id: number): Promise<boolean> {
    return (await this.db.selectFrom('api_tokens').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
  }

  /** Whether a token exists and has not expired (a dashboard session ends with either). */
  async isActive(id: number): Promise<boolean> {
    const row = await this.db.selectFrom('api_tokens').select('expires_at').where('id', '=', id).executeTakeFirst();
    return row !== undefined && (row.expires_at === null || row.expires_at > this.now());
  }

  async revoke(id: number): Promise<boolean> {
    const result = await this.db.deleteFrom('api_tokens').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
