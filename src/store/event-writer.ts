/**
 * The event log's batched writer: stores SES events and executes their effects, once per
 * SNS MessageId. It decides nothing: what an event does is asked of the rules
 * (src/events/event-effects.ts) and carried out here as store operations — move a ledger
 * row to an outcome never backwards, fail it, confirm a Send, keep the earliest open/click,
 * set a subscriber's status conditionally, suppress an address, count recent soft bounces,
 * count a campaign's outcomes for the breaker. Campaign state is not touched: a tripped
 * breaker is returned, and the caller (src/events/event-applier.ts) pauses the campaign
 * through the orchestrator after the commit.
 *
 * Exactly once (the replay gate): the first event row of a notification is inserted with
 * the SNS MessageId itself (unique), and every effect of the notification runs in the same
 * transaction only if that insert happened, so a replayed notification changes nothing.
 */
import { PostgresAdapter, sql, type CompiledQuery, type Kysely, type RawBuilder } from 'kysely';
import type { Effect, EventRules, EventSubscriberStatus, LedgerOutcome } from '../events/event-effects.js';
import { isDeliveredOnly, LEDGER_MOVABLE_FROM, SUBSCRIBER_REPLACEABLE } from '../events/event-effects.js';
import type { CampaignOutcomeCounts, ProviderOutcomeCounts } from '../events/reputation-breaker.js';
import type { MailboxProvider } from '../events/mailbox-provider.js';
import { BURST_WINDOW_MS, type EngagementDecision } from '../events/engagement-class.js';
import { addToMark, afterBurst, markMove, markOf } from '../events/engagement-marks.js';
import type { PauseCode } from '../campaigns/pause-reason.js';
import { readCounters } from './delivery-counters.js';
import type { SesEvent } from '../events/ses-notification.js';
import type { Store } from './db.js';
import type { Database, DeliveryStatus, SuppressionReason } from './schema.js';
import { SuppressionsRepository } from './suppressions-repository.js';

export interface NotificationInput {
  snsMessageId: string;
  /** The SNS Message text, kept as the payload of every event row. */
  message: string;
  events: SesEvent[];
}

/** A campaign whose reputation breaker tripped in this notification's transaction. */
export interface TrippedBreaker {
  campaignId: number;
  /** `breaker` (campaign-wide rates) or `provider-breaker` (one mailbox provider's). */
  code: Extract<PauseCode, 'breaker' | 'provider-breaker'>;
  reason: string;
}

export interface WriteResult {
  /** False when this SNS MessageId was seen before: nothing changed. */
  applied: boolean;
  /** Event rows written. */
  stored: number;
  /** Campaigns whose breaker tripped on this notification's bounces/complaints (counted in its transaction). */
  tripped: TrippedBreaker[];
}

type Db = Kysely<Database>;

interface LedgerKey {
  campaign_id: number;
  subscriber_id: number;
  status: DeliveryStatus;
  ses_message_id: string | null;
  /** When the row reached its outcome (the Delivery's time for a delivered row). */
  outcome_at: number | null;
}

/**
 * A statement compiled once for the store's dialect (placeholders `?` or `$n`) and run
 * with fresh parameters, given in the order the template names them. For the statements
 * every notification runs: building and compiling a Kysely query each time cost more
 * CPU than SQLite executing it.
 */
class Statement<R> {
  private readonly compiled: CompiledQuery<R>;
  constructor(db: Db, query: RawBuilder<R>) {
    this.compiled = query.compile(db);
  }
  async rows(trx: Db, parameters: unknown[]): Promise<R[]> {
    const result = await trx.executeQuery<R>({ ...this.compiled, parameters });
    return result.rows;
  }
}

/** Placeholder values for compiling a template; the real ones are passed to Statement.rows. */
const p = (): RawBuilder<unknown> => sql.val(null);
/** A fixed status list, inlined as literals (constants of this module, never input). */
const statusList = (statuses: readonly string[]) => sql.join(statuses.map((st) => sql.lit(st)));

const LEDGER_COLUMNS = sql`campaign_id, subscriber_id, status, ses_message_id, outcome_at`;

/** The hot statements: find the ledger row, insert the event (the replay gate), and the per-row effects. */
function hotStatements(db: Db) {
  const moveOutcome = (to: LedgerOutcome) =>
    new Statement<never>(
      db,
      sql`update deliveries set status = ${sql.lit(to)}, outcome_at = ${p()}, updated_at = ${p()}, ses_message_id = coalesce(ses_message_id, ${p()}) where campaign_id = ${p()} and subscriber_id = ${p()} and status in (${statusList(LEDGER_MOVABLE_FROM[to])})`,
    );
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  return {
    /** (ses_message_ids: an array on Postgres, a JSON array text on SQLite): one lookup for a whole batch. */
    ledgerBySesIds: {
      statement: new Statement<LedgerKey>(
        db,
        postgres
          ? sql`select ${LEDGER_COLUMNS} from deliveries where ses_message_id = any(${p()}::text[])`
          : sql`select ${LEDGER_COLUMNS} from deliveries where ses_message_id in (select value from json_each(${p()}))`,
      ),
      parameter: (ids: string[]): unknown => (postgres ? ids : JSON.stringify(ids)),
    },
    /**
     * Postgres only: Delivery notifications (one or a batch's worth) in one round trip,
     * set-based (arrays zipped by unnest): insert their events, and move the ledger rows of
     * the inserted ones (a replayed SNS MessageId inserts nothing, so moves nothing). Returns
     * the SNS MessageIds inserted. Parameters from `deliveryColumns`.
     */
    insertDelivered: postgres
      ? new Statement<{ sns_message_id: string }>(
          db,
          sql`with input as (select * from unnest(${p()}::text[], ${p()}::text[], ${p()}::text[], ${p()}::text[], ${p()}::bigint[], ${p()}::bigint[], ${p()}::text[], ${p()}::bigint[], ${p()}::text[], ${p()}::bigint[]) as t(sns_message_id, subtype, ses_message_id, email, campaign_id, subscriber_id, detail, occurred_at, payload, created_at)), ins as (insert into events (sns_message_id, type, subtype, ses_message_id, email, campaign_id, subscriber_id, detail, occurred_at, payload, created_at) select sns_message_id, ${sql.lit('delivery')}, subtype, ses_message_id, email, campaign_id, subscriber_id, detail, occurred_at, payload, created_at from input on conflict (sns_message_id) do nothing returning sns_message_id, ses_message_id, campaign_id, subscriber_id, occurred_at, created_at), upd as (update deliveries d set status = ${sql.lit('delivered')}, outcome_at = ins.occurred_at, updated_at = ins.created_at, ses_message_id = coalesce(d.ses_message_id, ins.ses_message_id) from ins where d.campaign_id = ins.campaign_id and d.subscriber_id = ins.subscriber_id and d.status in (${statusList(LEDGER_MOVABLE_FROM.delivered)}) returning 1) select sns_message_id from ins`,
        )
      : undefined,
    /**
     * Postgres only: a batch's first-party Open notifications in one round trip, set-based like
     * insertDelivered: insert their events (classified by the caller), and for the inserted ones
     * set each recipient's ledger opened_at to its earliest open (as markOpened does). Returns the SNS
     * MessageIds inserted. Parameters from `openColumns`.
     */
    insertOpened: postgres
      ? new Statement<{ sns_message_id: string }>(
          db,
          sql`with input as (select * from unnest(${p()}::text[], ${p()}::text[], ${p()}::text[], ${p()}::text[], ${p()}::bigint[], ${p()}::bigint[], ${p()}::text[], ${p()}::bigint[], ${p()}::text[], ${p()}::bigint[], ${p()}::text[], ${p()}::text[]) as t(sns_message_id, subtype, ses_message_id, email, campaign_id, subscriber_id, detail, occurred_at, payload, created_at, engagement, engagement_reason)), ins as (insert into events (sns_message_id, type, subtype, ses_message_id, email, campaign_id, subscriber_id, detail, occurred_at, payload, created_at, engagement, engagement_reason) select sns_message_id, ${sql.lit('open')}, subtype, ses_message_id, email, campaign_id, subscriber_id, detail, occurred_at, payload, created_at, engagement, engagement_reason from input on conflict (sns_message_id) do nothing returning sns_message_id, campaign_id, subscriber_id, occurred_at, created_at), firsts as (select campaign_id, subscriber_id, min(occurred_at) as opened_at, max(created_at) as updated_at from ins group by campaign_id, subscriber_id), upd as (update deliveries d set opened_at = f.opened_at, updated_at = f.updated_at from firsts f where d.campaign_id = f.campaign_id and d.subscriber_id = f.subscriber_id and (d.opened_at is null or d.opened_at > f.opened_at) returning 1) select sns_message_id from ins`,
        )
      : undefined,
    /** Postgres only, (campaign_ids, subscriber_ids): lockMark for many recipients (each once, in key order); returns each one's mark. */
    lockMarks: postgres
      ? new Statement<{ campaign_id: number; subscriber_id: number; mark: number }>(
          db,
          sql`insert into campaign_engagement_marks (campaign_id, subscriber_id, mark) select campaign_id, subscriber_id, 0 from unnest(${p()}::bigint[], ${p()}::bigint[]) as t(campaign_id, subscriber_id) order by campaign_id, subscriber_id on conflict (campaign_id, subscriber_id) do update set mark = campaign_engagement_marks.mark returning campaign_id, subscriber_id, mark`,
        )
      : undefined,
    /** Postgres only, (campaign_ids, subscriber_ids, marks): setMark for many recipients. */
    setMarks: postgres
      ? new Statement<never>(
          db,
          sql`update campaign_engagement_marks m set mark = t.mark from unnest(${p()}::bigint[], ${p()}::bigint[], ${p()}::int[]) as t(campaign_id, subscriber_id, mark) where m.campaign_id = t.campaign_id and m.subscriber_id = t.subscriber_id`,
        )
      : undefined,
    /** (ses_message_id) */
    ledgerBySesId: new Statement<LedgerKey>(db, sql`select ${LEDGER_COLUMNS} from deliveries where ses_message_id = ${p()} limit 1`),
    /** (campaign_id, subscriber_id) */
    ledgerByTags: new Statement<LedgerKey>(db, sql`select ${LEDGER_COLUMNS} from deliveries where campaign_id = ${p()} and subscriber_id = ${p()} limit 1`),
    /** (sns_message_id, type, subtype, ses_message_id, email, campaign_id, subscriber_id, detail, occurred_at, payload, created_at, engagement, engagement_reason) */
    insertEvent: new Statement<{ id: number }>(
      db,
      sql`insert into events (sns_message_id, type, subtype, ses_message_id, email, campaign_id, subscriber_id, detail, occurred_at, payload, created_at, engagement, engagement_reason) values (${p()}, ${p()}, ${p()}, ${p()}, ${p()}, ${p()}, ${p()}, ${p()}, ${p()}, ${p()}, ${p()}, ${p()}, ${p()}) on conflict (sns_message_id) do nothing returning id`,
    ),
    /** (ses_message_id): the clicks of a message stored so far (the burst rule looks at them). */
    clicksOfMessage: new Statement<{ detail: string | null; occurred_at: number }>(
      db,
      sql`select detail, occurred_at from events where ses_message_id = ${p()} and type = ${sql.lit('click')} order by occurred_at limit 200`,
    ),
    /** (ses_message_id, from, to): a burst makes the message's clicks within it machine. */
    burstClicks: new Statement<never>(
      db,
      sql`update events set engagement = ${sql.lit('machine')}, engagement_reason = ${sql.lit('link-burst')} where ses_message_id = ${p()} and type = ${sql.lit('click')} and occurred_at between ${p()} and ${p()} and (engagement is null or engagement <> ${sql.lit('machine')})`,
    ),
    /** (campaign_id, provider, kind, smtp_status) */
    countProvider: new Statement<never>(
      db,
      sql`insert into campaign_provider_counts (campaign_id, provider, kind, smtp_status, n) values (${p()}, ${p()}, ${p()}, ${p()}, 1) on conflict (campaign_id, provider, kind, smtp_status) do update set n = campaign_provider_counts.n + 1`,
    ),
    /** (outcome_at, updated_at, ses_message_id, campaign_id, subscriber_id) */
    moveLedger: { delivered: moveOutcome('delivered'), bounced: moveOutcome('bounced'), complained: moveOutcome('complained') },
    /** (last_error, updated_at, ses_message_id, campaign_id, subscriber_id) */
    failLedger: new Statement<never>(
      db,
      sql`update deliveries set status = ${sql.lit('failed')}, last_error = ${p()}, updated_at = ${p()}, ses_message_id = coalesce(ses_message_id, ${p()}) where campaign_id = ${p()} and subscriber_id = ${p()} and status in (${statusList(LEDGER_MOVABLE_FROM.failed)})`,
    ),
    /**
     * (occurred_at, updated_at, campaign_id, subscriber_id, occurred_at): the earliest open/click
     * (SNS delivers out of order, and a batch applies its opens as a set: the result is the same
     * in any order).
     */
    markOpened: new Statement<never>(
      db,
      sql`update deliveries set opened_at = ${p()}, updated_at = ${p()} where campaign_id = ${p()} and subscriber_id = ${p()} and (opened_at is null or opened_at > ${p()})`,
    ),
    markClicked: new Statement<never>(
      db,
      sql`update deliveries set clicked_at = ${p()}, updated_at = ${p()} where campaign_id = ${p()} and subscriber_id = ${p()} and (clicked_at is null or clicked_at > ${p()})`,
    ),
    /**
     * (campaign_id, subscriber_id): the recipient's engagement mark (0: none yet), its row
     * created if missing and locked (Postgres: the upsert locks it; SQLite has one writer), so
     * concurrent notifications of one recipient move its count one after the other.
     */
    lockMark: new Statement<{ mark: number }>(
      db,
      sql`insert into campaign_engagement_marks (campaign_id, subscriber_id, mark) values (${p()}, ${p()}, 0) on conflict (campaign_id, subscriber_id) do update set mark = campaign_engagement_marks.mark returning mark`,
    ),
    /** (mark, campaign_id, subscriber_id) */
    setMark: new Statement<never>(db, sql`update campaign_engagement_marks set mark = ${p()} where campaign_id = ${p()} and subscriber_id = ${p()}`),
    /** (campaign_id, mark, n): n more (or fewer) recipients with this mark. */
    addMarkCount: new Statement<never>(
      db,
      sql`insert into campaign_engagement_counts (campaign_id, mark, n) values (${p()}, ${p()}, ${p()}) on conflict (campaign_id, mark) do update set n = campaign_engagement_counts.n + excluded.n`,
    ),
    /** (ses_message_id, campaign_id, subscriber_id): whether the message's clicks read human / machine now (after a burst). */
    clickClasses: new Statement<{ human: number | null; machine: number | null }>(
      db,
      sql`select max(case when engagement = ${sql.lit('human')} then 1 else 0 end) as human, max(case when engagement = ${sql.lit('machine')} then 1 else 0 end) as machine from events where ses_message_id = ${p()} and type = ${sql.lit('click')} and campaign_id = ${p()} and subscriber_id = ${p()}`,
    ),
  };
}
type HotStatements = ReturnType<typeof hotStatements>;

/** One Delivery for `insertDelivered`: its event row's values and the ledger row it moves. */
interface DeliveryRow {
  snsMessageId: string;
  event: SesEvent;
  ledger: LedgerKey;
  message: string;
  now: number;
}

/** insertDelivered's parameters, one array per column (created_at is also the ledger's updated_at). */
function deliveryColumns(rows: DeliveryRow[]): unknown[][] {
  return [
    rows.map((r) => r.snsMessageId),
    rows.map((r) => r.event.subtype),
    rows.map((r) => r.event.sesMessageId),
    rows.map((r) => r.event.email),
    rows.map((r) => r.ledger.campaign_id),
    rows.map((r) => r.ledger.subscriber_id),
    rows.map((r) => r.event.detail),
    rows.map((r) => r.event.occurredAt),
    rows.map((r) => r.message),
    rows.map((r) => r.now),
  ];
}

/** One Open for `insertOpened`: a DeliveryRow and its engagement class. */
interface OpenRow extends DeliveryRow {
  engagement: EngagementDecision;
}

/** insertOpened's parameters, one array per column. */
function openColumns(rows: OpenRow[]): unknown[][] {
  return [...deliveryColumns(rows), rows.map((r) => r.engagement.class), rows.map((r) => r.engagement.reason)];
}

/** Moves of the engagement counts within one transaction, by `${campaign}/${mark}`. */
type MarkCounts = Map<string, { campaignId: number; mark: number; n: number }>;

/** One recipient of `campaignId` moved from one mark (null: none yet) to another, written at the end of the transaction (withMarkCounts). */
function countMarkMove(counts: MarkCounts, campaignId: number, move: { from: number | null; to: number }): void {
  const add = (mark: number, n: number) => {
    const key = `${campaignId}/${mark}`;
    const c = counts.get(key);
    if (c) c.n += n;
    else counts.set(key, { campaignId, mark, n });
  };
  if (move.from !== null) add(move.from, -1);
  add(move.to, 1);
}

/** When a ledger row's message was delivered (its Delivery event), null when not known: what the engagement rules read. */
function deliveredAtOf(ledger: LedgerKey | undefined): number | null {
  return ledger?.status === 'delivered' && ledger.outcome_at !== null ? Number(ledger.outcome_at) : null;
}

interface Pending {
  input: NotificationInput;
  now: number;
  resolve: (result: WriteResult) => void;
  reject: (err: unknown) => void;
}

export class EventWriter {
  private readonly queue: Pending[] = [];
  private draining = false;
  private readonly statements: HotStatements;

  constructor(
    private readonly db: Db,
    private readonly rules: EventRules,
    /** Most notifications applied in one transaction (group commit). */
    private readonly maxBatch = 100,
  ) {
    this.statements = hotStatements(db);
  }

  /**
   * Store a notification's events and execute their effects, once per SNS MessageId; the
   * promise settles after the commit. Notifications arriving while a transaction runs are
   * grouped into the next one: one commit for many notifications is what makes thousands
   * per second possible, on SQLite (one writer) and on Postgres (one fsync per commit). A
   * batch that fails is retried one notification per transaction, so a bad one fails alone.
   */
  write(input: NotificationInput, now: number = Date.now()): Promise<WriteResult> {
    return new Promise<WriteResult>((resolve, reject) => {
      this.queue.push({ input, now, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        // Let already-received requests reach the queue first: with a synchronous driver
        // (better-sqlite3) a transaction never yields to I/O, so without this every batch is one.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const results = await this.db.transaction().execute(async (trx) => {
            const known = batch.length > 1 ? await this.prefetchLedger(trx, batch) : undefined;
            const out = known && this.statements.insertDelivered ? await this.applyDeliveriesAsSet(trx, batch, known) : new Map<number, WriteResult>();
            return this.withMarkCounts(trx, async (counts) => {
              if (known) await this.applyOpensAsSet(trx, batch, known, counts, out);
              const results: WriteResult[] = [];
              for (const [i, item] of batch.entries()) results.push(out.get(i) ?? (await this.applyInTransaction(trx, item.input, item.now, counts, known)));
              return results;
            });
          });
          batch.forEach((item, i) => item.resolve(results[i]!));
        } catch (err) {
          if (batch.length === 1) {
            batch[0]!.reject(err);
            continue;
          }
          for (const item of batch) {
            try {
              item.resolve(await this.db.transaction().execute((trx) => this.withMarkCounts(trx, (counts) => this.applyInTransaction(trx, item.input, item.now, counts))));
            } catch (itemErr) {
              item.reject(itemErr);
            }
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * Postgres: the batch's notifications whose whole effect is a Delivery's (one event, ledger
   * row known by SES id, the rules' effects exactly moveLedger → delivered) in one set-based
   * statement instead of a round trip each. Returns their results by position in the batch;
   * everything else (and a second copy of an SNS MessageId within the batch, which then finds
   * the first one's event row: a replay) is applied one by one afterwards. Order does not
   * matter: 'delivered' only replaces sending/sent, and nothing moves a row back to those.
   */
  private async applyDeliveriesAsSet(trx: Db, batch: Pending[], known: Map<string, LedgerKey>): Promise<Map<number, WriteResult>> {
    const out = new Map<number, WriteResult>();
    const seen = new Set<string>();
    const picked: Array<DeliveryRow & { index: number }> = [];
    for (const [index, { input, now }] of batch.entries()) {
      const event = input.events.length === 1 ? input.events[0]! : undefined;
      const ledger = event?.sesMessageId ? known.get(event.sesMessageId) : undefined;
      if (!event || !ledger || seen.has(input.snsMessageId) || !this.fusesWithInsert(event, ledger)) continue;
      seen.add(input.snsMessageId);
      picked.push({ index, snsMessageId: input.snsMessageId, event, ledger, message: input.message, now });
    }
    if (picked.length < 2) return out;
    const inserted = await this.insertDelivered(trx, picked);
    for (const { index, snsMessageId } of picked) {
      out.set(index, inserted.has(snsMessageId) ? { applied: true, stored: 1, tripped: [] } : { applied: false, stored: 0, tripped: [] });
    }
    return out;
  }

  /**
   * Postgres: the batch's Open notifications whose whole effect is the usual one (one event,
   * ledger row known by SES id, the rules' effects exactly markOpened → markEngagement of that
   * row's campaign) in three statements instead of four round trips and two ledger triggers
   * each: insertOpened (events + the ledger's first open), lockMarks (each recipient's mark,
   * locked, in key order), setMarks (the changed ones); the count moves go to `counts` as
   * markEngagement's do. Classified as `classify` does for an open (the ledger's Delivery time;
   * no database read). Adds their results to `out` by position; the rest is applied one by one.
   * Same outcome as one by one, in any order: a ledger row keeps its earliest open (markOpened
   * too), and a mark only gains open bits (addToMark is an OR).
   */
  private async applyOpensAsSet(trx: Db, batch: Pending[], known: Map<string, LedgerKey>, counts: MarkCounts, out: Map<number, WriteResult>): Promise<void> {
    if (!this.statements.insertOpened || !this.statements.lockMarks || !this.statements.setMarks) return;
    const seen = new Set<string>();
    const picked: Array<OpenRow & { index: number }> = [];
    for (const [index, { input, now }] of batch.entries()) {
      if (out.has(index)) continue;
      const event = input.events.length === 1 ? input.events[0]! : undefined;
      const ledger = event?.type === 'open' && event.sesMessageId ? known.get(event.sesMessageId) : undefined;
      if (!event || !ledger || seen.has(input.snsMessageId) || !this.isPlainOpen(event, ledger)) continue;
      seen.add(input.snsMessageId);
      const engagement = this.rules.classify(event, { deliveredAt: deliveredAtOf(ledger), otherClicks: [] });
      picked.push({ index, snsMessageId: input.snsMessageId, event, ledger, message: input.message, now, engagement });
    }
    if (picked.length < 2) return;
    const inserted = new Set((await this.statements.insertOpened.rows(trx, openColumns(picked))).map((r) => r.sns_message_id));
    // Each recipient's new open bits, over its inserted opens of this batch.
    const bits = new Map<string, { campaignId: number; subscriberId: number; bits: number }>();
    for (const r of picked) {
      if (!inserted.has(r.snsMessageId)) continue;
      const key = `${r.ledger.campaign_id}/${r.ledger.subscriber_id}`;
      const b = bits.get(key) ?? { campaignId: Number(r.ledger.campaign_id), subscriberId: Number(r.ledger.subscriber_id), bits: 0 };
      b.bits |= markOf('open', r.engagement.class);
      bits.set(key, b);
    }
    if (bits.size > 0) {
      const who = [...bits.values()];
      const locked = await this.statements.lockMarks.rows(trx, [who.map((w) => w.campaignId), who.map((w) => w.subscriberId)]);
      const changed: Array<{ campaignId: number; subscriberId: number; mark: number }> = [];
      for (const row of locked) {
        const w = bits.get(`${row.campaign_id}/${row.subscriber_id}`)!;
        const old = Number(row.mark);
        const move = markMove(old, addToMark(old, w.bits));
        if (!move) continue;
        changed.push({ campaignId: w.campaignId, subscriberId: w.subscriberId, mark: move.to });
        countMarkMove(counts, w.campaignId, move);
      }
      if (changed.length > 0) await this.statements.setMarks.rows(trx, [changed.map((c) => c.campaignId), changed.map((c) => c.subscriberId), changed.map((c) => c.mark)]);
    }
    for (const { index, snsMessageId } of picked) {
      out.set(index, inserted.has(snsMessageId) ? { applied: true, stored: 1, tripped: [] } : { applied: false, stored: 0, tripped: [] });
    }
  }

  /**
   * The rules' effects of an event whose ledger row is known, when they can be decided before
   * any write (null when they wait for a soft-bounce count): what the set-based paths check.
   */
  private effectsOnKnownRow(event: SesEvent, ledger: LedgerKey): readonly Effect[] | null {
    if (this.rules.softBouncesSince(event) !== null) return null;
    return this.rules.decide(event, { ledgerFound: true, campaignId: ledger.campaign_id, recentSoftBounces: 0 });
  }

  /** Whether an open with a known ledger row has, per the rules, exactly the effects applyOpensAsSet carries out. */
  private isPlainOpen(event: SesEvent, ledger: LedgerKey): boolean {
    const effects = this.effectsOnKnownRow(event, ledger);
    return effects?.length === 2 && effects[0]!.kind === 'markOpened' && effects[1]!.kind === 'markEngagement' && effects[1]!.campaignId === ledger.campaign_id;
  }

  /** Whether an event with a known ledger row has, per the rules, only the effect insertDelivered carries out with its insert. */
  private fusesWithInsert(event: SesEvent, ledger: LedgerKey): boolean {
    const effects = this.effectsOnKnownRow(event, ledger);
    return effects !== null && isDeliveredOnly(effects);
  }

  /** Postgres: insert Delivery events and move their ledger rows in one statement; returns the SNS MessageIds inserted. */
  private async insertDelivered(trx: Db, rows: DeliveryRow[]): Promise<Set<string>> {
    const statement = this.statements.insertDelivered!;
    return new Set((await statement.rows(trx, deliveryColumns(rows))).map((r) => r.sns_message_id));
  }

  /**
   * Ledger rows of a whole batch by SES message id, in one query instead of one per event
   * (a round trip each on Postgres). Only a positive cache: campaign_id and subscriber_id
   * never change, and a row's ses_message_id is only ever set once (null → id), so an id
   * missing here (or set by an earlier notification of this batch) is looked up as before.
   */
  private async prefetchLedger(trx: Db, batch: Pending[]): Promise<Map<string, LedgerKey>> {
    const ids = new Set<string>();
    for (const item of batch) for (const e of item.input.events) if (e.sesMessageId) ids.add(e.sesMessageId);
    const known = new Map<string, LedgerKey>();
    if (ids.size === 0) return known;
    const { statement, parameter } = this.statements.ledgerBySesIds;
    for (const row of await statement.rows(trx, [parameter([...ids])])) {
      if (row.ses_message_id !== null && !known.has(row.ses_message_id)) known.set(row.ses_message_id, row);
    }
    return known;
  }

  private async applyInTransaction(trx: Db, input: NotificationInput, now: number, counts: MarkCounts, known?: Map<string, LedgerKey>): Promise<WriteResult> {
    const breakerCampaigns = new Set<number>();
    let stored = 0;
    for (const [i, event] of input.events.entries()) {
      const ledger = (event.sesMessageId ? known?.get(event.sesMessageId) : undefined) ?? (await this.findLedgerRow(trx, event));
      const campaignId = ledger?.campaign_id ?? event.campaignId;
      const subscriberId = ledger?.subscriber_id ?? event.subscriberId;
      const snsMessageId = i === 0 ? input.snsMessageId : `${input.snsMessageId}#${i}`;
      // A decision that needs no soft-bounce count is made before the insert (it reads
      // nothing the insert writes); one that needs the count waits for it (this event included).
      const softSince = this.rules.softBouncesSince(event);
      let effects = softSince === null ? this.rules.decide(event, { ledgerFound: ledger !== undefined, campaignId, recentSoftBounces: 0 }) : undefined;
      if (this.statements.insertDelivered && ledger && effects && isDeliveredOnly(effects)) {
        // The commonest notification, in one round trip; same as the insert + moveLedger below.
        const inserted = await this.insertDelivered(trx, [{ snsMessageId, event, ledger, message: input.message, now }]);
        if (inserted.size === 0) {
          if (i === 0) return { applied: false, stored: 0, tripped: [] };
          continue;
        }
        stored++;
        continue;
      }
      const engagement = event.type === 'open' || event.type === 'click' ? await this.classify(trx, event, ledger) : undefined;
      const [inserted] = await this.statements.insertEvent.rows(trx, [
        snsMessageId,
        event.type,
        event.subtype,
        event.sesMessageId,
        event.email,
        campaignId,
        subscriberId,
        event.detail,
        event.occurredAt,
        input.message,
        now,
        engagement?.class ?? null,
        engagement?.reason ?? null,
      ]);
      if (!inserted) {
        // Replay: the first row is the gate, and nothing was written before it. A replayed
        // bounce or complaint re-reads its campaign's breaker (changing nothing): if the
        // process died after the first copy committed and before the orchestrator paused the
        // campaign, SNS's retry is what pauses it (see src/events/event-applier.ts).
        if (i === 0) return { applied: false, stored: 0, tripped: await this.recheckBreaker(trx, event, campaignId) };
        continue;
      }
      stored++;
      if (engagement?.burst && event.sesMessageId) {
        await this.statements.burstClicks.rows(trx, [event.sesMessageId, event.occurredAt - BURST_WINDOW_MS, event.occurredAt + BURST_WINDOW_MS]);
      }
      effects ??= this.rules.decide(event, {
        ledgerFound: ledger !== undefined,
        campaignId,
        recentSoftBounces: await this.countSoftBounces(trx, event.email!, softSince!),
      });
      for (const effect of effects) {
        if (effect.kind === 'checkBreaker') breakerCampaigns.add(effect.campaignId);
        else if (effect.kind === 'markEngagement') await this.markEngagement(trx, counts, effect.campaignId, subscriberId, event, engagement);
        else await this.execute(trx, effect, event, ledger, now);
      }
    }
    const tripped: TrippedBreaker[] = [];
    for (const campaignId of breakerCampaigns) {
      // Counted here, after this notification's moves, in its transaction: consistent rates.
      const trip = await this.breakerTrip(trx, campaignId);
      if (trip) tripped.push(trip);
    }
    return { applied: true, stored, tripped };
  }

  /** Carry out one effect of `event`; ledger effects act on its ledger row, address effects on its recipient. */
  /** A replayed bounce/complaint: the breaker's decision on the campaign's counts now. */
  private async recheckBreaker(trx: Db, event: SesEvent, campaignId: number | null): Promise<TrippedBreaker[]> {
    if (campaignId === null || (event.type !== 'bounce' && event.type !== 'complaint')) return [];
    const trip = await this.breakerTrip(trx, campaignId);
    return trip ? [trip] : [];
  }

  private async breakerTrip(trx: Db, campaignId: number): Promise<TrippedBreaker | null> {
    const decision = this.rules.breaker(await this.campaignOutcomeCounts(trx, campaignId));
    if (!decision.trip) return null;
    return { campaignId, code: decision.scope === 'provider' ? 'provider-breaker' : 'breaker', reason: decision.reason };
  }

  /**
   * Human, machine or unknown for an open or click, from the rules and what the store knows:
   * when the message was delivered and (clicks) the message's other clicks so far.
   */
  private async classify(trx: Db, event: SesEvent, ledger: LedgerKey | undefined): Promise<EngagementDecision> {
    const otherClicks =
      event.type === 'click' && event.sesMessageId
        ? (await this.statements.clicksOfMessage.rows(trx, [event.sesMessageId])).map((r) => ({ link: r.detail, at: Number(r.occurred_at) }))
        : [];
    return this.rules.classify(event, { deliveredAt: deliveredAtOf(ledger), otherClicks });
  }

  /**
   * The recipient's engagement mark after this stored open/click (engagement-marks.ts), and the
   * campaign's count moved from the old mark to the new one (in `counts`, written at the end of
   * the transaction). Runs after the replay gate, so once per event; an event that changes
   * nothing in the mark (a second human open) moves nothing.
   */
  private async markEngagement(trx: Db, counts: MarkCounts, campaignId: number, subscriberId: number | null, event: SesEvent, engagement: EngagementDecision | undefined): Promise<void> {
    if (subscriberId === null || (event.type !== 'open' && event.type !== 'click')) return;
    const [row] = await this.statements.lockMark.rows(trx, [campaignId, subscriberId]);
    const old = Number(row?.mark ?? 0);
    let next = addToMark(old, markOf(event.type, engagement?.class ?? null));
    if (event.type === 'click' && engagement?.burst && event.sesMessageId) {
      // The burst just reclassified the message's clicks: its click classes as they read now.
      const [now] = await this.statements.clickClasses.rows(trx, [event.sesMessageId, campaignId, subscriberId]);
      next = afterBurst(next, { human: Number(now?.human ?? 0) === 1, machine: Number(now?.machine ?? 0) === 1 });
    }
    const move = markMove(old, next);
    if (!move) return;
    await this.statements.setMark.rows(trx, [move.to, campaignId, subscriberId]);
    countMarkMove(counts, campaignId, move);
  }

  /**
   * Run `apply` in the transaction, collecting its moves of the engagement counts, then write
   * them summed per (campaign, mark) in key order at its end: one upsert per count row the
   * transaction changed, and every writer locks the shared count rows in the same order, late
   * (Postgres: no deadlock between two batches on them, and the rows are held for the commit only).
   */
  private async withMarkCounts<T>(trx: Db, apply: (counts: MarkCounts) => Promise<T>): Promise<T> {
    const counts: MarkCounts = new Map();
    const result = await apply(counts);
    const moves = [...counts.values()].filter((c) => c.n !== 0).sort((a, b) => a.campaignId - b.campaignId || a.mark - b.mark);
    for (const c of moves) await this.statements.addMarkCount.rows(trx, [c.campaignId, c.mark, c.n]);
    return result;
  }

  private async execute(trx: Db, effect: Exclude<Effect, { kind: 'checkBreaker' | 'markEngagement' }>, event: SesEvent, ledger: LedgerKey | undefined, now: number): Promise<void> {
    switch (effect.kind) {
      case 'countProvider':
        await this.statements.countProvider.rows(trx, [effect.campaignId, effect.provider, effect.counter, effect.smtpStatus]);
        return;
      case 'setSubscriberStatus':
        if (event.email) await setSubscriberStatus(trx, event.email, effect.status, effect.reason, now);
        return;
      case 'suppress':
        if (event.email) await suppress(trx, event.email, effect.reason, effect.detail, now);
        return;
    }
    if (!ledger) return;
    const { campaign_id, subscriber_id } = ledger;
    switch (effect.kind) {
      case 'moveLedger':
        // A row found through its tags learns its SES message id here if it never did (dead worker).
        await this.statements.moveLedger[effect.to].rows(trx, [event.occurredAt, now, event.sesMessageId, campaign_id, subscriber_id]);
        return;
      case 'failLedger':
        await this.statements.failLedger.rows(trx, [effect.error, now, event.sesMessageId, campaign_id, subscriber_id]);
        return;
      case 'confirmSend':
        await confirmSend(trx, ledger, event, now);
        return;
      case 'markOpened':
        await this.statements.markOpened.rows(trx, [event.occurredAt, now, campaign_id, subscriber_id, event.occurredAt]);
        return;
      case 'markClicked':
        await this.statements.markClicked.rows(trx, [event.occurredAt, now, campaign_id, subscriber_id, event.occurredAt]);
        return;
    }
  }

  /** The ledger row for an event: by SES message id, else by our campaign + subscriber tags. */
  private async findLedgerRow(trx: Db, event: SesEvent): Promise<LedgerKey | undefined> {
    if (event.sesMessageId) {
      const [bySesId] = await this.statements.ledgerBySesId.rows(trx, [event.sesMessageId]);
      if (bySesId) return bySesId;
    }
    if (event.campaignId !== null && event.subscriberId !== null) {
      const [byTags] = await this.statements.ledgerByTags.rows(trx, [event.campaignId, event.subscriberId]);
      return byTags;
    }
    return undefined;
  }

  /** Soft (non-Permanent) bounces recorded for an address since `since`. */
  private async countSoftBounces(trx: Db, email: string, since: number): Promise<number> {
    const row = await trx
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('email', '=', email)
      .where('type', '=', 'bounce')
      .where('subtype', '!=', 'Permanent')
      .where('occurred_at', '>=', since)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /**
   * A campaign's messages SES accepted, and how many of them bounced or drew a complaint:
   * in all and per mailbox provider (with each provider's most frequent bounce status).
   */
  private async campaignOutcomeCounts(trx: Db, campaignId: number): Promise<CampaignOutcomeCounts> {
    // The per-campaign counters (migration 0015), read in this transaction: the row this event
    // just moved is counted, as a GROUP BY of the ledger here would count it.
    const rows = await readCounters(trx, campaignId, ['sent', 'delivered', 'bounced', 'complained']);
    const total: CampaignOutcomeCounts = { sent: 0, bounced: 0, complained: 0, providers: {} };
    for (const r of rows) {
      const n = r.n;
      const p = (total.providers![r.provider as MailboxProvider] ??= { sent: 0, bounced: 0, complained: 0, topBounceStatus: null });
      for (const c of [total, p] as ProviderOutcomeCounts[]) {
        c.sent += n;
        if (r.status === 'bounced') c.bounced += n;
        if (r.status === 'complained') c.complained += n;
      }
    }
    const statuses = await trx
      .selectFrom('campaign_provider_counts')
      .select(['provider', 'smtp_status', 'n'])
      .where('campaign_id', '=', campaignId)
      .where('kind', '=', 'bounce')
      .where('smtp_status', '!=', '')
      .orderBy('n', 'desc')
      .orderBy('smtp_status')
      .execute();
    for (const s of statuses) {
      const p = total.providers![s.provider as MailboxProvider];
      if (p && !p.topBounceStatus) p.topBounceStatus = s.smtp_status;
    }
    return total;
  }
}

/** The writer over a store's database, one per process (its queue is the group commit). */
export function createEventWriter(store: Store, rules: EventRules): EventWriter {
  return new EventWriter(store.db, rules);
}

/**
 * Confirm a Send: SES accepted the message. A row left 'sending' by a dead worker becomes
 * 'sent' with the message id, which is how the send pipeline's reconciliation tells "sent
 * but unrecorded" from "never sent". Any other status stays; the times are kept once.
 */
async function confirmSend(trx: Db, ledger: LedgerKey, event: SesEvent, now: number): Promise<void> {
  await trx
    .updateTable('deliveries')
    .set((eb) => ({
      confirmed_at: eb.fn.coalesce('confirmed_at', eb.val(event.occurredAt)),
      ses_message_id: eb.fn.coalesce('ses_message_id', eb.val(event.sesMessageId)),
      sent_at: eb.fn.coalesce('sent_at', eb.val(event.occurredAt)),
      status: eb.case().when('status', '=', 'sending').then('sent' as DeliveryStatus).else(eb.ref('status')).end(),
      updated_at: now,
    }))
    .where('campaign_id', '=', ledger.campaign_id)
    .where('subscriber_id', '=', ledger.subscriber_id)
    .execute();
}

/**
 * Subscriber status by address (applies even for mail we cannot tie to a ledger row).
 * Conditional, unlike SubscribersRepository.setStatusByEmail: events arrive out of order,
 * and a late bounce must not turn a complained subscriber back into a bounced one.
 */
async function setSubscriberStatus(trx: Db, email: string, status: EventSubscriberStatus, reason: string, now: number): Promise<void> {
  await trx
    .updateTable('subscribers')
    .set({ status, status_reason: reason.slice(0, 500), updated_at: now })
    .where('email', '=', email)
    .where('status', 'in', SUBSCRIBER_REPLACEABLE[status])
    .execute();
}

async function suppress(trx: Db, email: string, reason: SuppressionReason, detail: string, now: number): Promise<void> {
  // The store's rule: the first reason wins (a later complaint leaves an earlier 'bounced' as is).
  await new SuppressionsRepository(trx, () => now).suppress(email, reason, detail.slice(0, 500));
}
