/**
 * Who is calling: a Principal resolved from an API token. The API reads it from
 * `Authorization: Bearer …`; the dashboard from its session. Tokens are verified by the
 * store (hashed at rest, compared in constant time); this module only decides roles.
 *
 * Roles: `editor` may create, preview, test-send, send and pause campaigns, read stats and
 * manage subscribers; `admin` may do everything, including resume, cancel, removing
 * subscribers, the dashboard and bull-board.
 */
import type { TokenRole } from '../store/schema.js';

export type Role = TokenRole;

export interface Principal {
  tokenId: number;
  name: string;
  role: Role;
  /** The token holder's address (`tokens create --email`): the workspace's default test recipient. */
  email?: string | null;
}

/**
 * Resolve a presented token to its principal, or null if unknown. Must not leak timing.
 * A known token past its expiry throws AuthError(401) saying so.
 */
export type TokenVerifier = (token: string) => Promise<Principal | null>;

const RANK: Record<Role, number> = { editor: 1, admin: 2 };

export function roleAllows(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

/** Extract the token from an Authorization header; null when absent or not Bearer. */
export function parseBearer(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer[ ]+([A-Za-z0-9._~+/=-]{1,512})[ ]*$/i.exec(header);
  return m ? m[1]! : null;
}

export class AuthError extends Error {
  readonly statusCode: 401 | 403;
  constructor(statusCode: 401 | 403, message: string) {
    super(message);
    this.name = 'AuthError';
    this.statusCode = statusCode;
  }
}
