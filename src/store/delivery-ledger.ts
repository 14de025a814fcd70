/**
 * The delivery ledger: one row per (campaign, subscriber). The row, not the queue, is
 * the source of truth for "has this person been sent this issue": every transition is a
 * conditional UPDATE whose affected-row count tells the caller whether it won.
 *
 * Fencing (issue #17). A claim is a lease with a token:
 *  - token: (claimed_by, attempts). `attempts` goes up by one on every claim, so a worker
 *    that lost its claim (requeued, claimed again, even by another job of its own process)
 *    can never settle, release or fail the row of the newer claim: every write after the
 *    claim carries the token in its WHERE clause.
 *  - lease: [claimed_at, claimed_at + SES_REQUEST_TIMEOUT_S]. The worker starts its SES request
 *    only inside it and abandons the request at its end (workers/send-processor.ts and the
 *    deadline in src/ses/ses-transport.ts), so no request of this claim is in flight after it.
 *  - nothing but the owner moves a 'sending' row back to 'queued' before
 *    claimed_at + SES_REQUEST_TIMEOUT_S + UNCERTAIN_GRACE_S (`requeueUncertain`, cutoff computed by
 *    `uncertainAfterMs` in src/config.ts). Other writers only move it forward (SES events:
 *    sent/delivered/bounced…, never back to queued).
 * So while the lease lasts the row is provably still the owner's claim: the owner's local
 * check of its deadline IS the fence check, at no cost in statements. The claim statement
 * itself is the only per-message statement before the send; the 'sent' writes are batched.
 * Clocks: claimed_at is the claiming worker's clock and the cutoff the reconciler's; they
 * must agree to well within UNCERTAIN_GRACE_S (NTP gives milliseconds).
 */
import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { Database, DeliveryStatus } from './schema.js';
import { AudienceRepository, type AudienceFilter } from './audience-repository.js';
import { readTotals } from './campaign-totals.js';
import { foldCounters, readCounters } from './delivery-counters.js';

export interface LedgerRecipient {
  subscriberId: number;
  email: string;
  /** The send job (batch) the fan-out puts the row in: its first subscriber id (src/queue/send-queues.ts). */
  sendBatch?: number | null;
}

/** A queued row and the send batch the fan-out put it in (null: a job of its own). */
export interface QueuedRow {
  subscriberId: number;
  sendBatch: number | null;
}

/** Who holds a claim, and which claim: every write after the claim is conditional on both. */
export interface ClaimToken {
  workerId: string;
  /** The row's `attempts` after this claim (the claim generation). */
  attempt: number;
}

export interface ClaimedDelivery {
  campaignId: number;
  subscriberId: number;
  email: string;
  /** Subscriber's name now (null if none or the subscriber was removed). */
  name: string | null;
  attempts: number;
  /** `claimed_at` as written: the start of the claim's lease. */
  claimedAt: number;
  token: ClaimToken;
}

/** One accepted message for `markSentMany`. */
export interface SentRow {
  campaignId: number;
  subscriberId: number;
  workerId: string;
  attempt: number;
  sesMessageId: string;
  now: number;
}

/** Row counts per status plus the engagement counters, as the stats derivation needs them. */
export interface LedgerCounts {
  byStatus: Partial<Record<DeliveryStatus, number>>;
  /** Rows 'sending' claimed before the uncertainty threshold and not confirmed by SES. */
  uncertain: number;
  opened: number;
  clicked: number;
  rows: number;
}

/** Statuses after which a row never changes because of the send pipeline. */
export const TERMINAL_STATUSES: readonly DeliveryStatus[] = [
  'sent',
  'failed',
  'delivered',
  'bounced',
  'complained',
  'skipped',
  'cancelled',
];

const INSERT_CHUNK = 500;

export class DeliveryLedger {
  /**
   * The claim's status test. SQLite picks deliveries_campaign_status (campaign_id, status) for the
   * claim's WHERE when it can, and then walks every queued row of the campaign per statement
   * (~0.8 ms with 20,000 queued, more in a larger campaign); the unary + keeps the status test off
   * that index so the rows are found by the primary key (campaign_id, subscriber_id IN …).
   * PostgreSQL plans it by key as it is (and has no unary + for text). Decided once per ledger.
   */
  private readonly claimStatus;

  /** The audience rule the claim re-checks (who is still mailable), from its owner. */
  private readonly audience;

  constructor(private readonly db: Kysely<Database>) {
    this.audience = new AudienceRepository(db);
    this.claimStatus = db.getExecutor().adapter instanceof PostgresAdapter ? sql`status` : sql`+status`;
  }

  /**
   * Insert rows 'queued'; rows that already exist (a fan-out page replayed) are left alone.
   * Once per recipient (the fan-out), so a raw template rather than the query builder: the
   * builder parses and compiles each row object of 16 columns, about half of the insert's CPU
   * (issue #15, bench/ledger-writes.ts: SQLite 14–16 → 8–9 µs a row; PostgreSQL 44 → 31 µs of
   * wall time). Only the columns with a value are named; the others take their defaults
   * (null, attempts 0, wave 0).
   */
  async insertQueued(campaignId: number, recipients: readonly LedgerRecipient[], now = Date.now()): Promise<void> {
    for (let i = 0; i < recipients.length; i += INSERT_CHUNK) {
      const rows = recipients.slice(i, i + INSERT_CHUNK).map((r) => sql`(${campaignId}, ${r.subscriberId}, ${r.email}, 'queued', ${r.sendBatch ?? null}, ${now}, ${now})`);
      await sql`
        INSERT INTO deliveries (campaign_id, subscriber_id, email, status, send_batch, created_at, updated_at)
        VALUES ${sql.join(rows)}
        ON CONFLICT (campaign_id, subscriber_id) DO NOTHING`.execute(this.db);
    }
  }

  /**
   * Write the canary wave: `size` rows 'queued' with `wave = 1`, chosen by
   * AudienceRepository.waveSelection, in ONE statement (INSERT … SELECT). Called by the
   * orchestrator in the transaction that moves the campaign's phase selecting → wave, so the
   * wave is written exactly once and whole: a crash before the commit leaves no row and the
   * phase `selecting` (the fan-out's retry writes it then); after it, the phase says it is done.
   * Exactly-once across waves: every later fan-out page leaves wave members out
   * (`excludeWaveOf`), and the ledger's primary key (campaign, subscriber) would refuse a
   * second row anyway; a wave member's one row is claimed once like any other.
   */
  async insertCanaryWave(campaignId: number, filter: AudienceFilter, size: number, seed: number, now = Date.now()): Promise<number> {
    if (size <= 0) return 0;
    const chosen = new AudienceRepository(this.db).waveSelection(filter, size, seed);
    const result = await this.db
      .insertInto('deliveries')
      .columns(['campaign_id', 'subscriber_id', 'email', 'status', 'wave', 'attempts', 'created_at', 'updated_at'])
      .expression(
        this.db
          .selectFrom(chosen.as('c'))
          // Literals, not parameters: PostgreSQL would type a parameter in a SELECT list as text.
          .select([
            sql.lit(Math.trunc(campaignId)).as('campaign_id'),
            'c.subscriber_id',
            'c.email',
            sql.lit('queued').as('status'),
            sql.lit(1).as('wave'),
            sql.lit(0).as('attempts'),
            sql.lit(Math.trunc(now)).as('created_at'),
            sql.lit(Math.trunc(now)).as('updated_at'),
          ])
          // SQLite reads `INSERT … SELECT … FROM x ON …` ambiguously without a WHERE; harmless elsewhere.
          .where(sql<boolean>`1 = 1`),
      )
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0);
  }

  /** The canary wave's rows by status, and the first failure's text (for the pause note). */
  async waveCounts(campaignId: number): Promise<{ byStatus: Partial<Record<DeliveryStatus, number>>; firstError: string | null }> {
    const rows = await this.db
      .selectFrom('deliveries')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('campaign_id', '=', campaignId)
      .where('wave', '=', 1)
      .groupBy('status')
      .execute();
    const byStatus: Partial<Record<DeliveryStatus, number>> = {};
    for (const r of rows) byStatus[r.status] = Number(r.n);
    let firstError: string | null = null;
    if ((byStatus.failed ?? 0) > 0) {
      const f = await this.db
        .selectFrom('deliveries')
        .select('last_error')
        .where('campaign_id', '=', campaignId)
        .where('wave', '=', 1)
        .where('status', '=', 'failed')
        .orderBy('subscriber_id')
        .limit(1)
        .executeTakeFirst();
      firstError = f?.last_error ?? null;
    }
    return { byStatus, firstError };
  }

  /**
   * Claim a row for sending: queued → sending, atomically. Returns the row if this caller
   * won, null if the row was not queued (already sent, claimed by another worker, skipped…).
   */
  async claim(campaignId: number, subscriberId: number, workerId: string, now = Date.now()): Promise<ClaimedDelivery | null> {
    return (await this.claimMany(campaignId, [subscriberId], workerId, now)).get(subscriberId) ?? null;
  }

  /**
   * `claim` for several subscribers of one campaign in ONE conditional update: each row only if
   * it is queued and unconfirmed, so only one worker anywhere wins it. Returns the rows this
   * caller won, by subscriber id, with what the send needs.
   */
  async claimMany(campaignId: number, subscriberIds: readonly number[], workerId: string, now = Date.now()): Promise<Map<number, ClaimedDelivery>> {
    const claimed = new Map<number, ClaimedDelivery>();
    if (subscriberIds.length === 0) return claimed;
    // Hot path (once per batch of messages): a raw template (Kysely still picks the dialect's
    // placeholders). confirmed_at IS NULL: SES confirmed an earlier attempt (its Send event
    // arrived after the row was requeued), so it must never be sent again.
    const result = await sql<{ subscriber_id: number; email: string; attempts: number; name: string | null }>`
      UPDATE deliveries
      SET status = 'sending', claimed_by = ${workerId}, claimed_at = ${now}, attempts = attempts + 1, updated_at = ${now}
      WHERE campaign_id = ${campaignId} AND subscriber_id IN (${sql.join(subscriberIds)}) AND ${this.claimStatus} = 'queued'
        AND confirmed_at IS NULL
      RETURNING subscriber_id, email, attempts, (SELECT name FROM subscribers WHERE subscribers.id = deliveries.subscriber_id) AS name`.execute(this.db);
    for (const row of result.rows) {
      const subscriberId = Number(row.subscriber_id);
      claimed.set(subscriberId, claimedFrom(campaignId, subscriberId, workerId, now, row)!);
    }
    return claimed;
  }

  /**
   * The hot path's claim: `claim` and the audience re-check (AudienceRepository.isMailable:
   * subscribed membership of `listId`, active subscriber, address not suppressed). Null when
   * the row was not claimable OR the subscriber is no longer mailable; the caller tells the two
   * apart on that rare miss with `claim` + `isMailable`. One case of `claimManyIfMailable`.
   */
  async claimIfMailable(campaignId: number, subscriberId: number, listId: number, workerId: string, now = Date.now()): Promise<ClaimedDelivery | null> {
    return (await this.claimManyIfMailable(campaignId, [subscriberId], listId, workerId, now)).get(subscriberId) ?? null;
  }

  /**
   * `claimIfMailable` for several subscribers of one campaign (the send processor's claims that
   * arrive within a few milliseconds of each other, workers/claim-batcher.ts), in two statements
   * whatever their number: `claimMany`, then the audience re-check of the rows won. Batching
   * changes how many statements run, not who can win a row. Returns the rows this caller won
   * and may mail, by subscriber id; a subscriber missing from the map was not claimed, or its
   * claim was handed back at once because it is no longer mailable (the caller tells the two
   * apart with `claim` + `isMailable`, and skips the row).
   *
   * Why not one statement (claim only where EXISTS(mailable)), as before: on SQLite a subquery
   * or join in the claim's UPDATE, together with the ledger's counter triggers, made each
   * statement cost ~300 µs more CPU than the plain update plus this SELECT (issue #15; bench in
   * bench/results/send.md). The re-check still comes after the claim, inside the claim's lease,
   * so it is at least as fresh as before: a worker frozen between the two statements wakes past
   * its lease and sends nothing (the fence, workers/send-processor.ts). The re-check is
   * AudienceRepository's own filter (`mailableAmong`), not a copy of it.
   *
   * If the re-check (or a hand-back) fails after the claim succeeded, this rejects and the rows
   * it claimed stay 'sending' with nobody sending them: the reconciler requeues them after the
   * lease and the grace (`requeueUncertain`). Nothing was sent, so that is a delay, never a
   * second send; a failed single statement, before, left nothing claimed.
   */
  async claimManyIfMailable(campaignId: number, subscriberIds: readonly number[], listId: number, workerId: string, now = Date.now()): Promise<Map<number, ClaimedDelivery>> {
    const claimed = await this.claimMany(campaignId, subscriberIds, workerId, now);
    if (claimed.size === 0) return claimed;
    const keep = await this.audience.mailableAmong([...claimed.keys()], listId);
    for (const [subscriberId, row] of claimed) {
      if (keep.has(subscriberId)) continue;
      claimed.delete(subscriberId);
      await this.release(campaignId, subscriberId, row.token, null);
    }
    return claimed;
  }

  /** sending → `to`, only if still this claim (token). True if the write happened. */
  private async settle(
    campaignId: number,
    subscriberId: number,
    token: ClaimToken,
    patch: Partial<{ status: DeliveryStatus; ses_message_id: string; sent_at: number; last_error: string | null; claimed_by: null; claimed_at: null }>,
    now: number,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('deliveries')
      .set({ ...patch, updated_at: now })
      .where('campaign_id', '=', campaignId)
      .where('subscriber_id', '=', subscriberId)
      .where('status', '=', 'sending')
      .where('claimed_by', '=', token.workerId)
      .where('attempts', '=', token.attempt)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** SES accepted the message. If an SES Send event already settled the row, only the id is filled in. */
  async markSent(campaignId: number, subscriberId: number, token: ClaimToken, sesMessageId: string, now = Date.now()): Promise<boolean> {
    const [won] = await this.markSentMany([{ campaignId, subscriberId, workerId: token.workerId, attempt: token.attempt, sesMessageId, now }]);
    return won!;
  }

  /**
   * `markSent` for many rows in ONE statement (one commit instead of one per message), and no
   * interactive transaction: a worker frozen or killed between statements holds no row lock,
   * so the reconciler and SES event writes are never blocked by it (issue #17). Returns, per
   * input row, whether its claim won. Rows this worker no longer holds (an SES event got there
   * first) only get the message id filled in, by a second statement that runs only then.
   */
  async markSentMany(rows: readonly SentRow[]): Promise<boolean[]> {
    if (rows.length === 0) return [];
    const values = sql.join(
      rows.map(
        (r) =>
          sql`(CAST(${r.campaignId} AS bigint), CAST(${r.subscriberId} AS bigint), CAST(${r.workerId} AS text), CAST(${r.attempt} AS integer), CAST(${r.sesMessageId} AS text), CAST(${r.now} AS bigint))`,
      ),
    );
    const result = await sql<{ campaign_id: number; subscriber_id: number }>`
      WITH v(campaign_id, subscriber_id, worker_id, attempt, ses_message_id, at) AS (VALUES ${values})
      UPDATE deliveries SET status = 'sent', ses_message_id = v.ses_message_id, sent_at = v.at, updated_at = v.at
      FROM v
      WHERE deliveries.campaign_id = v.campaign_id AND deliveries.subscriber_id = v.subscriber_id
        AND deliveries.status = 'sending' AND deliveries.claimed_by = v.worker_id AND deliveries.attempts = v.attempt
      RETURNING deliveries.campaign_id, deliveries.subscriber_id`.execute(this.db);
    const wonKeys = new Set(result.rows.map((r) => `${Number(r.campaign_id)}/${Number(r.subscriber_id)}`));
    const won = rows.map((r) => wonKeys.has(`${r.campaignId}/${r.subscriberId}`));
    const lost = rows.filter((_, i) => !won[i]);
    if (lost.length > 0) {
      const lostValues = sql.join(lost.map((r) => sql`(CAST(${r.campaignId} AS bigint), CAST(${r.subscriberId} AS bigint), CAST(${r.sesMessageId} AS text), CAST(${r.now} AS bigint))`));
      await sql`
        WITH v(campaign_id, subscriber_id, ses_message_id, at) AS (VALUES ${lostValues})
        UPDATE deliveries SET ses_message_id = v.ses_message_id, sent_at = v.at, updated_at = v.at
        FROM v
        WHERE deliveries.campaign_id = v.campaign_id AND deliveries.subscriber_id = v.subscriber_id
          AND deliveries.ses_message_id IS NULL AND deliveries.status <> 'queued'`.execute(this.db);
    }
    return won;
  }

  /** Permanent failure for this row only (MessageRejected, invalid address…). */
  markFailed(campaignId: number, subscriberId: number, token: ClaimToken, error: string, now = Date.now()): Promise<boolean> {
    return this.settle(campaignId, subscriberId, token, { status: 'failed', last_error: error.slice(0, 1000) }, now);
  }

  /** The subscriber left (unsubscribed, bounced, suppressed) before their turn. */
  markSkipped(campaignId: number, subscriberId: number, token: ClaimToken, reason: string, now = Date.now()): Promise<boolean> {
    return this.settle(campaignId, subscriberId, token, { status: 'skipped', last_error: reason }, now);
  }

  /** Hand a claimed row back (throttled, paused, transient error): it will be sent later. */
  release(campaignId: number, subscriberId: number, token: ClaimToken, error: string | null, now = Date.now()): Promise<boolean> {
    return this.settle(
      campaignId,
      subscriberId,
      token,
      { status: 'queued', claimed_by: null, claimed_at: null, last_error: error?.slice(0, 1000) ?? null },
      now,
    );
  }

  /**
   * The reconciler's scan, every second in every worker: served by the partial index of
   * migration 0004. `olderThan` is a claim time: now − (SES_REQUEST_TIMEOUT_S + UNCERTAIN_GRACE_S).
   */
  uncertainRows(olderThan: number, limit: number) {
    return this.db
      .selectFrom('deliveries')
      .select(['campaign_id', 'subscriber_id', 'claimed_at', 'attempts', 'send_batch'])
      .where('status', '=', 'sending')
      .where('confirmed_at', 'is', null)
      .where('claimed_at', '<', olderThan)
      .limit(limit);
  }

  /**
   * Rows left 'sending' without SES confirming them, claimed before `olderThan`: their worker
   * died or froze somewhere around the SES call. Requeue them (the caller re-adds their jobs).
   *
   * Exactly-once: `olderThan` must be at most now − (SES_REQUEST_TIMEOUT_S + UNCERTAIN_GRACE_S)
   * (`uncertainAfterMs`). The claim's owner starts its SES request only before
   * claimed_at + SES_REQUEST_TIMEOUT_S and abandons it then, so by the cutoff no request of
   * this claim can still be started, and SES has had UNCERTAIN_GRACE_S since the last one could
   * have ended to publish its Send event (which sets confirmed_at, excluding the row here).
   * A frozen owner that wakes later finds its lease over and sends nothing; its token is stale,
   * so it cannot touch the row either. Each row is requeued by a conditional update on the
   * same claim (attempts), so two reconcilers cannot both win, and a row confirmed or settled
   * since the scan is left alone.
   */
  async requeueUncertain(olderThan: number, now = Date.now(), limit = 1000): Promise<({ campaignId: number } & QueuedRow)[]> {
    const rows = await this.uncertainRows(olderThan, limit).execute();
    const requeued: ({ campaignId: number } & QueuedRow)[] = [];
    for (const row of rows) {
      const result = await this.db
        .updateTable('deliveries')
        .set({ status: 'queued', claimed_by: null, claimed_at: null, last_error: 'requeued: unconfirmed after grace period', updated_at: now })
        .where('campaign_id', '=', row.campaign_id)
        .where('subscriber_id', '=', row.subscriber_id)
        .where('status', '=', 'sending')
        .where('confirmed_at', 'is', null)
        .where('attempts', '=', row.attempts)
        .where('claimed_at', '<', olderThan)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1) requeued.push({ campaignId: row.campaign_id, subscriberId: row.subscriber_id, sendBatch: row.send_batch });
    }
    return requeued;
  }

  /** Rows requeued before SES's late Send event confirmed them: they were sent; settle them. */
  async settleConfirmedQueued(campaignId: number, now = Date.now()): Promise<number> {
    const result = await this.db
      .updateTable('deliveries')
      .set({ status: 'sent', updated_at: now })
      .where('campaign_id', '=', campaignId)
      .where('status', '=', 'queued')
      .where('confirmed_at', 'is not', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Keyset page of a campaign's 'queued' rows and their send batches (re-enqueue after resume or a lost Redis). */
  async queuedPage(campaignId: number, afterSubscriberId: number, limit: number, updatedBefore?: number): Promise<QueuedRow[]> {
    let q = this.db
      .selectFrom('deliveries')
      .select(['subscriber_id', 'send_batch'])
      .where('campaign_id', '=', campaignId)
      .where('status', '=', 'queued')
      .where('subscriber_id', '>', afterSubscriberId);
    if (updatedBefore !== undefined) q = q.where('updated_at', '<', updatedBefore);
    const rows = await q.orderBy('subscriber_id').limit(limit).execute();
    return rows.map((r) => ({ subscriberId: r.subscriber_id, sendBatch: r.send_batch }));
  }

  /**
   * Rows not yet terminal (queued or in flight). Zero plus a finished fan-out = campaign done.
   * Read from the counters (migration 0015): exact as of the statement's snapshot, like a count.
   */
  async openCount(campaignId: number): Promise<number> {
    const rows = await readCounters(this.db, campaignId, ['queued', 'sending']);
    return rows.reduce((sum, r) => sum + r.n, 0);
  }

  /** Fold the counters' statement deltas (the reconciler's sweep; see foldCounters). */
  foldCounters(): Promise<number> {
    return foldCounters(this.db);
  }

  /** Cancel every row that has not been sent; returns how many. */
  async cancelQueued(campaignId: number, now = Date.now()): Promise<number> {
    const result = await this.db
      .updateTable('deliveries')
      .set({ status: 'cancelled', updated_at: now })
      .where('campaign_id', '=', campaignId)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * The counts the stats derive from. A pruned campaign (retention) reads the totals persisted
   * before its rows were deleted, so its stats read the same as before the prune.
   */
  async counts(campaignId: number, uncertainBefore: number): Promise<LedgerCounts> {
    const persisted = await readTotals(this.db, campaignId);
    return persisted ? persisted.counts : this.liveCounts(campaignId, uncertainBefore);
  }

  /**
   * The live counts, read from the per-campaign counters the database keeps (migration 0015)
   * instead of counting the campaign's rows: a few dozen counter rows whatever its size. Only
   * `uncertain` depends on the time, so it is counted from the rows, and only when some are
   * 'sending' (the partial index of migration 0004 holds just the in-flight rows).
   */
  async liveCounts(campaignId: number, uncertainBefore: number): Promise<LedgerCounts> {
    const counts: LedgerCounts = { byStatus: {}, uncertain: 0, opened: 0, clicked: 0, rows: 0 };
    for (const r of await readCounters(this.db, campaignId)) {
      counts.byStatus[r.status] = (counts.byStatus[r.status] ?? 0) + r.n;
      counts.rows += r.n;
      counts.opened += r.opened;
      counts.clicked += r.clicked;
    }
    if ((counts.byStatus.sending ?? 0) > 0) counts.uncertain = await this.uncertainCount(campaignId, uncertainBefore);
    return counts;
  }

  /** Rows 'sending' claimed before `uncertainBefore` and not confirmed by SES (in-flight rows only). */
  async uncertainCount(campaignId: number, uncertainBefore: number): Promise<number> {
    const row = await this.db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'sending')
      .where('claimed_at', '<', uncertainBefore)
      .where('confirmed_at', 'is', null)
      .where('campaign_id', '=', campaignId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async get(campaignId: number, subscriberId: number) {
    return this.db
      .selectFrom('deliveries')
      .selectAll()
      .where('campaign_id', '=', campaignId)
      .where('subscriber_id', '=', subscriberId)
      .executeTakeFirst();
  }
}

function claimedFrom(
  campaignId: number,
  subscriberId: number,
  workerId: string,
  claimedAt: number,
  row: { email: string; attempts: number; name: string | null } | undefined,
): ClaimedDelivery | null {
  if (!row) return null;
  const attempts = Number(row.attempts);
  return { campaignId, subscriberId, email: row.email, name: row.name, attempts, claimedAt, token: { workerId, attempt: attempts } };
}
