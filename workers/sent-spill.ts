/**
 * Where a stopping worker leaves the accepted sends it could not write to the database (the
 * database was down for longer than its shutdown allows, see sent-writer.ts): a Redis list of
 * JSON rows under the prefix. Every worker's sweep replays it into the ledger — the same
 * conditional 'sent' write, fenced by the stopped worker's claim token (id + attempt), so a row that was meanwhile settled
 * otherwise (its Send event, a resend) is left alone — and removes what it wrote.
 *
 * Why Redis and not a local file: the next worker may run on another machine; Redis already
 * holds the fleet's shared state (queues, rate limiter) and is independent of the database
 * whose outage caused the spill.
 */
import type { Redis } from 'ioredis';
import type { DeliveryLedger } from '../src/store/delivery-ledger.js';
import { redisKeys } from '../src/queue/redis-keys.js';
import type { AcceptedSend } from './sent-writer.js';

interface SpilledRow {
  c: number;
  s: number;
  w: string;
  /** The claim generation (the ledger's fencing token with `w`). */
  a: number;
  m: string;
  t: number;
}

export class SentSpill {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = redisKeys(prefix).sentSpill();
  }

  /** Keep these rows until a worker has written them. */
  async spill(rows: readonly AcceptedSend[]): Promise<void> {
    if (rows.length === 0) return;
    const encoded = rows.map((r) => JSON.stringify({ c: r.campaignId, s: r.subscriberId, w: r.workerId, a: r.attempt, m: r.sesMessageId, t: r.now } satisfies SpilledRow));
    await this.redis.rpush(this.key, ...encoded);
  }

  /**
   * Write up to `max` spilled rows to the ledger; returns how many were written. The rows are
   * taken off the list atomically (two workers never replay the same ones); a database error
   * puts them back for the next sweep.
   */
  async replay(ledger: Pick<DeliveryLedger, 'markSentMany'>, max = 500): Promise<number> {
    const raw = await this.redis.lpop(this.key, max);
    if (!raw || raw.length === 0) return 0;
    const rows = raw.map((text) => {
      const r = JSON.parse(text) as SpilledRow;
      return { campaignId: r.c, subscriberId: r.s, workerId: r.w, attempt: r.a, sesMessageId: r.m, now: r.t };
    });
    try {
      await ledger.markSentMany(rows);
    } catch (err) {
      await this.redis.lpush(this.key, ...raw.reverse());
      throw err;
    }
    return raw.length;
  }

  /** Rows waiting to be replayed. */
  size(): Promise<number> {
    return this.redis.llen(this.key);
  }
}
