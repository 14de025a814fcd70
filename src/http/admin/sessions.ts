/**
 * Dashboard sessions in Redis. The cookie holds an opaque random id; Redis holds only its
 * sha256 (a leaked Redis dump cannot be replayed as a cookie), the principal, the CSRF
 * synchronizer token and an expiry (Redis TTL). Logout deletes the key at once.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKeys } from '../../queue/redis-keys.js';
import type { Principal } from '../auth.js';

export interface Session {
  principal: Principal;
  /** Synchronizer token every state-changing dashboard request must echo. */
  csrf: string;
  createdAt: number;
  expiresAt: number;
}

const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Constant-time string equality (length leaks only, which is fixed for our tokens). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly ttlSeconds = 8 * 3600,
  ) {}

  private key(id: string): string {
    return redisKeys(this.prefix).session(createHash('sha256').update(id).digest('hex'));
  }

  async create(principal: Principal, now = Date.now()): Promise<{ id: string; session: Session }> {
    const id = randomToken(32);
    const session: Session = { principal, csrf: randomToken(32), createdAt: now, expiresAt: now + this.ttlSeconds * 1000 };
    await this.redis.set(this.key(id), JSON.stringify(session), 'EX', this.ttlSeconds);
    return { id, session };
  }

  async get(id: string | undefined, now = Date.now()): Promise<Session | null> {
    if (!id || !ID_PATTERN.test(id)) return null;
    const raw = await this.redis.get(this.key(id));
    if (!raw) return null;
    const session = JSON.parse(raw) as Session;
    return session.expiresAt > now ? session : null;
  }

  async destroy(id: string | undefined): Promise<void> {
    if (id && ID_PATTERN.test(id)) await this.redis.del(this.key(id));
  }
}
