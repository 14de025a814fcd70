/**
 * Per-token budget for test sends (POST /api/campaigns/:id/test): at most
 * TEST_SENDS_PER_MIN test messages per API token per minute, counted in Redis so every
 * server of a fleet shares it. A test send is real mail to any address the caller names,
 * so a leaked editor token must not turn the server into a mail cannon.
 */
import type { Redis } from 'ioredis';
import { loadLuaScript } from '../../queue/lua-script.js';
import { redisKeys } from '../../queue/redis-keys.js';

const HIT = loadLuaScript(import.meta.url, './test-send-window-hit.lua');
const WINDOW_MS = 60_000;

export interface TestSendBudget {
  allowed: boolean;
  /** Messages counted in this window (after this request when allowed). */
  count: number;
  /** Until the window resets. */
  retryAfterMs: number;
}

export class TestSendLimit {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly perMinute: number,
  ) {}

  /** Take `messages` (the request's recipients) from the token's budget, or refuse whole. */
  async take(tokenId: number, messages: number): Promise<TestSendBudget> {
    const key = redisKeys(this.prefix).testSendWindow(tokenId);
    const [allowed, count, ttl] = (await this.redis.eval(HIT.source, 1, key, String(WINDOW_MS), String(messages), String(this.perMinute))) as [number, number, number];
    return { allowed: allowed === 1, count, retryAfterMs: ttl };
  }
}
