/**
 * Campaign rows. State changes are conditional updates (WHERE status IN …) so that two
 * callers racing (CLI pause vs. worker finishing, two workers firing a schedule) cannot
 * both win; every method that changes state says whether it did.
 *
 * Only src/campaigns/campaign-orchestrator.ts calls `transition` and `patch`: it decides
 * which transition is legal (state-machine.ts) and what follows from winning it. The
 * fan-out's cursor (`advanceFanout`) is the one other writer; it changes no status.
 */
import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { Campaign, CampaignStatus, Database } from './schema.js';

export interface NewCampaign {
  listId: number;
  subject: string;
  issueTitle: string;
  issueSlug: string;
  issueDate: string | null;
  sourcePath: string | null;
  sourceMarkdown: string;
  /** null: a draft whose issue still has preflight errors; it cannot be scheduled or started. */
  compiledJson: string | null;
  scheduledAt: number | null;
  status: Extract<CampaignStatus, 'draft' | 'scheduled'>;
}

/** What an edit may replace: the issue, not the list, the slug or the lifecycle. */
export type IssueContent = Pick<NewCampaign, 'subject' | 'issueTitle' | 'issueDate' | 'sourcePath' | 'sourceMarkdown' | 'compiledJson'>;

export type CampaignPatch = Partial<
  Pick<
    Campaign,
    | 'scheduled_at'
    | 'started_at'
    | 'finished_at'
    | 'audience_max_subscriber_id'
    | 'total'
    | 'total_known'
    | 'paused_reason'
    | 'paused_note'
    | 'fanout_cursor'
    | 'fanout_done'
    | 'canary_percent'
    | 'canary_wait_ms'
    | 'canary_size'
    | 'canary_phase'
    | 'canary_until'
  >
>;

/** Extra conditions on a conditional update: the row must still be as the caller saw it. */
export interface Guard {
  scheduledAt?: number;
  pausedReason?: Campaign['paused_reason'] & string;
  /** The canary phase the caller read (state-machine.ts CANARY_PHASES). */
  canaryPhase?: Campaign['canary_phase'] & string;
}

export class CampaignsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(c: NewCampaign, now = Date.now()): Promise<Campaign> {
    const row = await this.db
      .insertInto('campaigns')
      .values({
        list_id: c.listId,
        status: c.status,
        subject: c.subject,
        issue_title: c.issueTitle,
        issue_slug: c.issueSlug,
        issue_date: c.issueDate,
        source_path: c.sourcePath,
        source_markdown: c.sourceMarkdown,
        compiled_json: c.compiledJson,
        scheduled_at: c.scheduledAt,
        started_at: null,
        finished_at: null,
        audience_max_subscriber_id: null,
        fanout_cursor: 0,
        paused_reason: null,
        paused_note: null,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return row;
  }

  get(id: number): Promise<Campaign | undefined> {
    return this.db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async status(id: number): Promise<{ status: CampaignStatus; list_id: number } | undefined> {
    return this.db.selectFrom('campaigns').select(['status', 'list_id']).where('id', '=', id).executeTakeFirst();
  }

  /**
   * Make submissions of one issue (slug) to one list take turns: called first in the
   * transaction that looks the issue up and may create it. PostgreSQL: a transaction-level
   * advisory lock on (list, slug), held until that transaction ends, so a second submission
   * reads after the first committed and finds its campaign. SQLite: nothing to do, its
   * write transactions already take turns (`begin immediate`, db.ts).
   */
  async lockIssue(listId: number, issueSlug: string): Promise<void> {
    if (!(this.db.getExecutor().adapter instanceof PostgresAdapter)) return;
    await sql`select pg_advisory_xact_lock(hashtextextended(${`campaign-issue:${listId}:${issueSlug}`}, 0))`.execute(this.db);
  }

  /** The newest campaign of this issue (slug) on this list, or undefined: what a resubmission finds. */
  latestOfIssue(listId: number, issueSlug: string): Promise<Campaign | undefined> {
    return this.db
      .selectFrom('campaigns')
      .selectAll()
      .where('list_id', '=', listId)
      .where('issue_slug', '=', issueSlug)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  /**
   * Replace the issue of a campaign not yet started (an edit), while it is in one of
   * `inStatus`; true if this caller changed it. Not a status change.
   */
  async replaceIssue(id: number, inStatus: readonly CampaignStatus[], c: IssueContent, now = Date.now()): Promise<boolean> {
    const result = await this.db
      .updateTable('campaigns')
      .set({
        subject: c.subject,
        issue_title: c.issueTitle,
        issue_date: c.issueDate,
        source_path: c.sourcePath,
        source_markdown: c.sourceMarkdown,
        compiled_json: c.compiledJson,
        updated_at: now,
      })
      .where('id', '=', id)
      .where('status', 'in', inStatus)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Newest first. */
  list(limit = 100, offset = 0): Promise<Campaign[]> {
    return this.db.selectFrom('campaigns').selectAll().orderBy('id', 'desc').limit(limit).offset(offset).execute();
  }

  byStatus(statuses: readonly CampaignStatus[]): Promise<Campaign[]> {
    return this.db.selectFrom('campaigns').selectAll().where('status', 'in', statuses).orderBy('id').execute();
  }

  /**
   * Move `from` → `to` with extra fields; true if this caller made the change.
   * `guard`: only while the row still has the schedule / pause code the caller saw (a sweep
   * firing a due schedule loses to an editor who moved it meanwhile; the quota recheck does
   * not resume a campaign an editor paused since).
   */
  async transition(
    id: number,
    from: readonly CampaignStatus[],
    to: CampaignStatus,
    patch: CampaignPatch = {},
    now = Date.now(),
    guard: Guard = {},
  ): Promise<boolean> {
    return this.update(id, from, { ...patch, status: to }, now, guard);
  }

  /** Update fields only while the campaign is in one of `inStatus` (no state change). */
  async patch(id: number, inStatus: readonly CampaignStatus[], patch: CampaignPatch, now = Date.now(), guard: Guard = {}): Promise<boolean> {
    return this.update(id, inStatus, patch, now, guard);
  }

  private async update(
    id: number,
    inStatus: readonly CampaignStatus[],
    set: CampaignPatch & { status?: CampaignStatus },
    now: number,
    guard: Guard,
  ): Promise<boolean> {
    let query = this.db
      .updateTable('campaigns')
      .set({ ...set, updated_at: now })
      .where('id', '=', id)
      .where('status', 'in', inStatus);
    if (guard.scheduledAt !== undefined) query = query.where('scheduled_at', '=', guard.scheduledAt);
    if (guard.pausedReason !== undefined) query = query.where('paused_reason', '=', guard.pausedReason);
    if (guard.canaryPhase !== undefined) query = query.where('canary_phase', '=', guard.canaryPhase);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Advance the fan-out cursor from `expected` (compare-and-set): a second fan-out chain
   * for the same campaign (after a lost Redis or a racing resume) loses and stops.
   * Not an orchestrator transition: it changes no status and decides nothing about the
   * lifecycle; the cursor belongs to the fan-out alone (see workers/fanout-processor.ts).
   */
  async advanceFanout(id: number, expected: number, next: number, done: boolean, now = Date.now()): Promise<boolean> {
    const result = await this.db
      .updateTable('campaigns')
      .set({ fanout_cursor: next, fanout_done: done ? 1 : 0, updated_at: now })
      .where('id', '=', id)
      .where('fanout_cursor', '=', expected)
      .where('fanout_done', '=', 0)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Fill in the audience size of a campaign started without counting it (`total_known` 0),
   * once: conditional on the count still pending, so a replayed or superseded fan-out that
   * counts again changes nothing. Like the cursor, bookkeeping of the fan-out, not a status
   * change. True if this call filled it.
   */
  async fillTotal(id: number, total: number, now = Date.now()): Promise<boolean> {
    const result = await this.db
      .updateTable('campaigns')
      .set({ total, total_known: 1, updated_at: now })
      .where('id', '=', id)
      .where('total_known', '=', 0)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Highest subscriber id now: the audience freeze (later sign-ups are not added). */
  async maxSubscriberId(): Promise<number> {
    const row = await this.db
      .selectFrom('subscribers')
      .select((eb) => eb.fn.max<number | null>('id').as('m'))
      .executeTakeFirst();
    return Number(row?.m ?? 0);
  }
}
