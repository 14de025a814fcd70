/**
 * Fixed-window counters in Redis for the sign-up form: per client IP (answered with 429)
 * and per address (answered with the usual neutral page, but no further mail, so the form
 * cannot be used to flood someone's inbox). Addresses are hashed in the key so Redis
 * holds no subscriber data.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { loadLuaScript } from '../queue/lua-script.js';
import { redisKeys } from '../queue/redis-keys.js';

const HIT = loadLuaScript(import.meta.url, './signup-window-hit.lua');

export interface WindowHit {
  allowed: boolean;
  count: number;
  /** Until the window resets. */
  retryAfterMs: number;
}

export class SignupRateLimit {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly limits: { perIpPerHour: number; perAddressPerDay: number },
  ) {}

  private async hit(key: string, max: number, windowMs: number): Promise<WindowHit> {
    const [count, ttl] = (await this.redis.eval(HIT.source, 1, key, String(windowMs))) as [number, number];
    return { allowed: count <= max, count, retryAfterMs: ttl };
  }

  byIp(ip: string): Promise<WindowHit> {
    return this.hit(redisKeys(this.prefix).signupWindow('ip', hash(ip)), this.limits.perIpPerHour, 3600_000);
  }

  byAddress(email: string): Promise<WindowHit> {
    return this.hit(redisKeys(this.prefix).signupWindow('addr', hash(email)), this.limits.perAddressPerDay, 24 * 3600_000);
  }
}

function hash(value: string): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 22);
}
