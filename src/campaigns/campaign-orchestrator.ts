/**
 * The one owner of campaign state. Every status change (create, schedule, start, pause for
 * any reason, resume, cancel, finish, and the schedule-missed mark) is made here, as a
 * conditional update of a transition from state-machine.ts; side effects (enqueueing the
 * fan-out, cancelling ledger rows) follow only when this caller won the transition. The CLI,
 * the API, the dashboard, the workers and the event pipeline call these methods, never the
 * repository's `transition`/`patch`.
 *
 * An action that reads the row first (schedule, start) updates on the status it read, so
 * a caller acting on a stale view loses; the others update on every status the state
 * machine allows them from.
 *
 * Refusals: a status the transition does not start from throws StateError (the caller asked
 * for something impossible); losing a race to another caller returns false. `pause` is the
 * exception: it only returns false, because its automatic callers (quota, account, breaker)
 * routinely find the campaign already paused.
 *
 * Canary waves (canary-wave.ts, phases in state-machine.ts): `start` fixes the wave's size and
 * sets the phase `selecting`; the fan-out asks `writeCanaryWave` to write the wave's ledger rows
 * (one transaction with the phase move); the worker's sweep calls `advanceCanary`, which moves
 * the phase to `waiting` with a persisted deadline once the wave is out, then pauses (code
 * `canary`) or releases the rest. Resuming a campaign paused during its wave for a reputation
 * reason (canary or breaker) releases the rest: the editor has looked and decided.
 *
 * Activity: every change this caller wins is recorded in the campaign's activity log
 * (campaign-activity.ts) in the same transaction as the change, with the actor the caller
 * passes (a token's name and role, `cli`, or `system` for the scheduler, breaker, quota and
 * completion checks, which is also the default). Test sends, which change nothing, are
 * recorded through `recordTest`.
 */
import type { Logger } from 'pino';
import { NotFoundError, StateError } from '../errors.js';
import type { CampaignActivityRepository } from '../store/campaign-activity-repository.js';
import type { CampaignsRepository, IssueContent, NewCampaign } from '../store/campaigns-repository.js';
import type { Transactional } from '../store/repositories.js';
import type { DeliveryLedger } from '../store/delivery-ledger.js';
import type { Campaign } from '../store/schema.js';
import { enqueueFanout, fanoutJobId, type SendQueues } from '../queue/send-queues.js';
import type { AudienceSource } from './ports.js';
import { canAdvanceCanary, canTransition, isEditable, isSending, resumeMeans, transition, type CanaryPhase } from './state-machine.js';
import { canaryDefaults, canaryView, canaryWaveSize, decideCanary, describeCanary, waveOutcomes, type CanaryDefaults, type CanaryView } from './canary-wave.js';
import { loadConfig } from '../config.js';
import { deriveCampaignStats, type CampaignStats } from './campaign-stats.js';
import { healthFigures, type CampaignHealthSource, type HealthFigures } from './campaign-health.js';
import { describePause, type PauseCode, type PauseReason } from './pause-reason.js';
import { SYSTEM_ACTOR, type ActivityAction, type ActivityEntry, type Actor } from './campaign-activity.js';
import { decideResubmission, sameIssue, type Submission } from './resubmission.js';

/** The repositories a change and its activity entry are written through, in one transaction. */
export interface ActivityUnit {
  campaigns: CampaignsRepository;
  campaignActivity: Pick<CampaignActivityRepository, 'record' | 'list'>;
  /** Writes a canary wave in the transaction of its phase move (without it: the deps' ledger, no transaction). */
  ledger?: Pick<DeliveryLedger, 'insertCanaryWave'>;
}

/** Transactions over the change and its entry, and the log itself for reads and lone entries. */
export type ActivityUnits = Transactional<ActivityUnit> & Pick<ActivityUnit, 'campaignActivity'>;

/** Without `units`: nothing is recorded. */
const NO_ACTIVITY: ActivityUnit['campaignActivity'] = { record: async () => undefined, list: async () => [] };

export interface OrchestratorDeps {
  campaigns: CampaignsRepository;
  ledger: DeliveryLedger;
  audience: AudienceSource;
  queues: SendQueues;
  /**
   * The store's repositories (openRepositories): each change and its activity entry commit
   * together. Without it (tests of the lifecycle alone) changes go through `campaigns` and
   * nothing is recorded.
   */
  units?: ActivityUnits;
  logger?: Logger;
  /** Human/machine engagement and per-provider figures for stats; without it they read zero. */
  health?: CampaignHealthSource;
  /** Rows in flight longer than this are reported `uncertain` (ms). */
  uncertainAfterMs?: number;
  now?: () => number;
  /** Canary defaults (CANARY_PERCENT, CANARY_WAIT_MIN) and the breaker thresholds the wave is judged by. */
  canary?: CanaryDefaults;
}

/** What a send (start or schedule) may ask for beyond the campaign itself. */
export interface SendOptions {
  /** Canary wave share in percent (0 = none); undefined = the campaign's stored choice, else CANARY_PERCENT. */
  canaryPercent?: number;
}

/** A draft saved with preflight errors has no compiled issue: it is not sent or scheduled. */
function refuseUnsendable(c: Campaign): void {
  if (c.compiled_json === null) throw new StateError(`campaign ${c.id} has preflight errors; fix them (newsletter check, or the workspace) before it is scheduled or sent`);
}

export class CampaignOrchestrator {
  private readonly now: () => number;
  private readonly canary: CanaryDefaults;
  constructor(private readonly deps: OrchestratorDeps) {
    this.now = deps.now ?? Date.now;
    this.canary = deps.canary ?? canaryDefaults(loadConfig({}));
  }

  /**
   * Run `write` (a conditional update through the repository it is given); when it wins,
   * record `action` by `actor` in the same transaction.
   */
  private async change(
    id: number,
    action: ActivityAction,
    actor: Actor,
    detail: string | null,
    write: (campaigns: CampaignsRepository) => Promise<boolean>,
  ): Promise<boolean> {
    const units = this.deps.units;
    if (!units) return write(this.deps.campaigns);
    return units.transaction(async (r) => {
      const won = await write(r.campaigns);
      if (won) await r.campaignActivity.record(id, action, actor, this.now(), detail);
      return won;
    });
  }

  /**
   * A new campaign: a draft, or scheduled at once (`scheduledAt` required then). Only a draft
   * may lack its compiled issue (preflight errors remain: `compiledJson` null).
   */
  async create(c: NewCampaign, actor: Actor = SYSTEM_ACTOR): Promise<Campaign> {
    if (c.status === 'scheduled' && c.scheduledAt === null) throw new StateError('a scheduled campaign needs its time');
    if (c.status === 'scheduled' && c.compiledJson === null) throw new StateError('a campaign with preflight errors cannot be scheduled');
    const units = this.deps.units;
    if (!units) return this.deps.campaigns.create(c, this.now());
    return units.transaction((r) => this.createIn(r, c, actor));
  }

  private async createIn(r: ActivityUnit, c: NewCampaign, actor: Actor): Promise<Campaign> {
    const now = this.now();
    const created = await r.campaigns.create(c, now);
    await r.campaignActivity.record(created.id, 'created', actor, now, c.sourcePath ? `from ${c.sourcePath}` : null);
    if (c.status === 'scheduled') await r.campaignActivity.record(created.id, 'scheduled', actor, now, `for ${new Date(c.scheduledAt!).toISOString()}`);
    return created;
  }

  /**
   * Submit an issue as a draft, idempotently (the CI path): the newest campaign of the same
   * issue slug on the same list decides (resubmission.ts) whether this makes a new draft,
   * answers that campaign unchanged, edits it (draft or scheduled, the issue changed), or is
   * refused (StateError: already started or sent with other content). Decided and written
   * in one transaction, after taking the issue's lock (CampaignsRepository.lockIssue): two
   * submissions racing (two CI jobs) decide one after the other, so they make one draft.
   * There is no unique key: the CLI's `send` makes a campaign per call by design.
   */
  async submit(c: Omit<NewCampaign, 'status' | 'scheduledAt'>, actor: Actor): Promise<{ campaign: Campaign; outcome: Submission['kind'] }> {
    const draft: NewCampaign = { ...c, status: 'draft', scheduledAt: null };
    const work = async (r: ActivityUnit) => {
      await r.campaigns.lockIssue(c.listId, c.issueSlug);
      const existing = await r.campaigns.latestOfIssue(c.listId, c.issueSlug);
      const decision = decideResubmission(existing, existing ? sameIssue(existing, c) : false);
      switch (decision.kind) {
        case 'create':
          return { campaign: await this.createIn(r, draft, actor), outcome: decision.kind };
        case 'existing':
          return { campaign: existing!, outcome: decision.kind };
        case 'edit': {
          const won = await r.campaigns.replaceIssue(existing!.id, [existing!.status], c, this.now());
          if (!won) throw new StateError(`campaign ${existing!.id} changed state meanwhile; not edited`);
          await r.campaignActivity.record(existing!.id, 'edited', actor, this.now(), c.sourcePath ? `from ${c.sourcePath}` : null);
          return { campaign: (await r.campaigns.get(existing!.id))!, outcome: decision.kind };
        }
        case 'refuse':
          throw new StateError(decision.reason);
      }
    };
    if (this.deps.units) return this.deps.units.transaction(work);
    return work({ campaigns: this.deps.campaigns, campaignActivity: NO_ACTIVITY });
  }

  /**
   * Replace the issue of a campaign that has not started (the workspace's "save draft"), as
   * one conditional update on the status read, recorded as `edited`. A draft may keep
   * preflight errors (`compiledJson` null); a scheduled one may not (it would fire unsendable):
   * unschedule it first.
   */
  async editIssue(id: number, content: IssueContent, actor: Actor = SYSTEM_ACTOR, detail: string | null = null): Promise<Campaign> {
    const c = await this.get(id);
    if (!isEditable(c.status)) throw new StateError(`campaign ${id} is ${c.status}; only a draft or a scheduled campaign can be edited`);
    if (content.compiledJson === null && c.status !== 'draft') {
      throw new StateError(`campaign ${id} is scheduled; an issue with preflight errors cannot replace it (fix them, or unschedule it first)`);
    }
    const won = await this.change(id, 'edited', actor, detail, (campaigns) => campaigns.replaceIssue(id, [c.status], content, this.now()));
    if (!won) throw new StateError(`campaign ${id} changed state meanwhile; not edited`);
    return this.get(id);
  }

  /** scheduled → draft: the pending send is called off before it starts; the draft stays. */
  async unschedule(id: number, actor: Actor = SYSTEM_ACTOR): Promise<boolean> {
    const c = await this.get(id);
    if (!canTransition(c.status, 'unschedule')) throw new StateError(`campaign ${id} is ${c.status}; only a scheduled campaign can be unscheduled`);
    const { to } = transition('unschedule');
    const was = c.scheduled_at === null ? null : `was due ${new Date(c.scheduled_at).toISOString()}`;
    const won = await this.change(id, 'unscheduled', actor, was, (campaigns) =>
      campaigns.transition(id, [c.status], to, { scheduled_at: null, paused_reason: null, paused_note: null }, this.now(), { scheduledAt: c.scheduled_at ?? undefined }),
    );
    if (won) this.deps.logger?.info({ campaignId: id }, 'campaign unscheduled');
    return won;
  }

  /** Test copies were sent (no state change): record who sent them and to whom. */
  async recordTest(id: number, actor: Actor, to: readonly string[]): Promise<void> {
    if (to.length === 0) return;
    await this.deps.units?.campaignActivity.record(id, 'tested', actor, this.now(), `to ${to.join(', ')}`);
  }

  /** The campaign's activity log, oldest first (empty without `units`). */
  async activity(id: number): Promise<ActivityEntry[]> {
    await this.get(id);
    return this.deps.units ? this.deps.units.campaignActivity.list(id) : [];
  }

  async get(id: number): Promise<Campaign> {
    const c = await this.deps.campaigns.get(id);
    if (!c) throw new NotFoundError(`campaign ${id}`);
    return c;
  }

  /**
   * draft|scheduled → scheduled at `at`, or move a pending schedule, as one conditional
   * update; a missed-schedule mark is cleared. The worker's sweep fires it when due (a time
   * already past fires on the next sweep, within the schedule grace).
   */
  async schedule(id: number, at: Date | number, actor: Actor = SYSTEM_ACTOR, opts: SendOptions = {}): Promise<boolean> {
    const scheduledAt = typeof at === 'number' ? at : at.getTime();
    if (!Number.isFinite(scheduledAt)) throw new StateError(`campaign ${id}: the scheduled time is not a date`);
    const c = await this.get(id);
    if (!canTransition(c.status, 'schedule')) throw new StateError(`campaign ${id} is ${c.status}; it cannot be scheduled`);
    refuseUnsendable(c);
    const { to } = transition('schedule');
    // The canary choice is fixed when the send is asked for (the sweep that fires it later
    // uses it, whatever the worker's own CANARY_PERCENT says): 0 = none.
    const canaryPercent = opts.canaryPercent ?? c.canary_percent ?? this.canary.percent ?? 0;
    const canaryWaitMs = c.canary_wait_ms ?? this.canary.waitMs;
    // Already scheduled for that time (a CI re-run): nothing changes, nothing to record.
    if (c.status === to && c.scheduled_at === scheduledAt && c.paused_reason === null && c.canary_percent === canaryPercent) return true;
    const detail = `${c.status === to ? 'moved to' : 'for'} ${new Date(scheduledAt).toISOString()}${canaryPercent > 0 ? `; canary ${canaryPercent}%` : ''}`;
    const won = await this.change(id, 'scheduled', actor, detail, (campaigns) =>
      campaigns.transition(id, [c.status], to, {
        scheduled_at: scheduledAt,
        paused_reason: null,
        paused_note: null,
        canary_percent: canaryPercent,
        canary_wait_ms: canaryWaitMs,
      }, this.now()),
    );
    if (won) this.deps.logger?.info({ campaignId: id, scheduledAt: new Date(scheduledAt).toISOString() }, 'campaign scheduled');
    return won;
  }

  /**
   * draft|scheduled → sending: freeze the audience (highest subscriber id and start time,
   * so later sign-ups are not added), then enqueue the fan-out. The audience's size (`total`)
   * is counted here only for a canary wave; else the fan-out counts it beside its first pages
   * (`total_known` 0 until then; stats read the rows fanned out so far meanwhile).
   */
  async start(id: number, actor: Actor = SYSTEM_ACTOR, opts: SendOptions = {}): Promise<boolean> {
    return this.startIf(await this.get(id), {}, actor, null, opts);
  }

  /**
   * Start `c` as this caller saw it. Like `schedule`, the update is conditional on the status
   * the caller read (legal per the state machine), not on every status `start` allows: of a
   * "send now" and a "schedule for tomorrow" that both saw the draft, one wins and the other
   * is told the state changed, instead of the later one silently overriding the earlier.
   * `guard.scheduledAt`: the sweep fires only the schedule it saw, not one an editor moved meanwhile.
   */
  private async startIf(c: Campaign, guard: { scheduledAt?: number }, actor: Actor, detail: string | null = null, opts: SendOptions = {}): Promise<boolean> {
    const id = c.id;
    if (!canTransition(c.status, 'start')) throw new StateError(`campaign ${id} is ${c.status}; it cannot start`);
    refuseUnsendable(c);
    const startedAt = this.now();
    const maxId = await this.deps.campaigns.maxSubscriberId();
    const { to } = transition('start');
    const canaryPercent = opts.canaryPercent ?? c.canary_percent ?? this.canary.percent ?? 0;
    const canaryWaitMs = c.canary_wait_ms ?? this.canary.waitMs;
    // The audience is counted here only for a canary (opt-in), whose wave size is fixed with
    // the start; the fan-out writes the wave (writeCanaryWave). Otherwise the count (one pass
    // over the list's memberships, linear in the audience) stays off the start path: the
    // fan-out starts at once and fills `total` in right after its first page (fillTotal).
    const total = canaryPercent > 0 ? await this.deps.audience.audienceCount({ listId: c.list_id, maxSubscriberId: maxId, joinedBefore: startedAt }) : null;
    const waveSize = total === null ? 0 : canaryWaveSize(total, canaryPercent);
    const canary = waveSize > 0
      ? { canary_percent: canaryPercent, canary_wait_ms: canaryWaitMs, canary_size: waveSize, canary_phase: 'selecting' as const, canary_until: null }
      : { canary_size: null, canary_phase: null, canary_until: null };
    const canaryText = waveSize > 0 ? `; canary ${canaryPercent}% = ${waveSize} first, the rest ${formatWait(canaryWaitMs)} after them` : '';
    const recipients = total === null ? 'audience being counted' : `${total} recipient(s)`;
    const won = await this.change(id, 'started', actor, `${recipients}${canaryText}${detail ? `; ${detail}` : ''}`, (campaigns) =>
      campaigns.transition(id, [c.status], to, {
        started_at: startedAt,
        audience_max_subscriber_id: maxId,
        total: total ?? 0,
        total_known: total === null ? 0 : 1,
        paused_reason: null,
        paused_note: null,
        ...canary,
      }, startedAt, guard),
    );
    if (!won) return false;
    await enqueueFanout(this.deps.queues.fanout, { campaignId: id });
    this.deps.logger?.info({ campaignId: id, total }, 'campaign started');
    return true;
  }

  /** sending → paused, with a reason code (and a note for people); true if this caller paused it. */
  async pause(id: number, reason: PauseReason, actor: Actor = SYSTEM_ACTOR): Promise<boolean> {
    const { from, to } = transition('pause');
    const detail = reason.code === 'editor' ? null : describePause(reason.code, reason.note ?? null);
    const won = await this.change(id, 'paused', actor, detail, (campaigns) =>
      campaigns.transition(id, from, to, { paused_reason: reason.code, paused_note: reason.note ?? null }, this.now()),
    );
    if (won) this.deps.logger?.warn({ campaignId: id, reason: reason.code, note: reason.note }, 'campaign paused');
    return won;
  }

  /**
   * An editor's pause (CLI, API, dashboard): NotFoundError for a campaign that does not
   * exist, StateError for one that is not sending (a machine pause just gets false).
   */
  async pauseByEditor(id: number, actor: Actor = SYSTEM_ACTOR): Promise<void> {
    if (await this.pause(id, { code: 'editor' }, actor)) return;
    const c = await this.get(id);
    throw new StateError(`campaign ${id} is ${c.status}; only a sending campaign can pause`);
  }

  /** Pause every sending campaign (SES paused the account). */
  async pauseAll(reason: PauseReason): Promise<number[]> {
    const paused: number[] = [];
    for (const c of await this.deps.campaigns.byStatus(['sending'])) {
      if (await this.pause(c.id, reason)) paused.push(c.id);
    }
    return paused;
  }

  /**
   * paused → sending, re-enqueueing the rows that were handed back; or, for a scheduled
   * campaign whose time passed while everything was down, the editor's confirmation to start.
   * `pausedFor`: resume only a campaign paused for that reason (the quota recheck resumes
   * what the quota paused, never what an editor, the breaker or SES paused); false otherwise.
   */
  async resume(id: number, opts: { pausedFor?: PauseCode; actor?: Actor } = {}): Promise<boolean> {
    const actor = opts.actor ?? SYSTEM_ACTOR;
    const c = await this.get(id);
    const means = resumeMeans(c.status);
    if (opts.pausedFor !== undefined && (means !== 'resume' || c.paused_reason !== opts.pausedFor)) return false;
    if (means === 'start') return this.startIf(c, {}, actor, 'a missed schedule confirmed');
    if (means === null) throw new StateError(`campaign ${id} is ${c.status}; only a paused campaign can resume`);
    const { from, to } = transition('resume');
    // Paused during the canary for a reputation reason: the editor has looked; the rest goes
    // out now (in the same conditional update). Paused for anything else: the hold goes on.
    const release = (c.paused_reason === 'canary' || c.paused_reason === 'breaker') && canAdvanceCanary(c.canary_phase, 'released');
    const detail = `${c.paused_reason ? `was ${describePause(c.paused_reason, c.paused_note)}` : ''}${release ? '; canary released: the rest goes out' : ''}` || null;
    const won = await this.change(id, 'resumed', actor, detail, (campaigns) =>
      campaigns.transition(id, from, to, { paused_reason: null, paused_note: null, ...(release ? { canary_phase: 'released' as const } : {}) }, this.now(), {
        pausedReason: opts.pausedFor,
        ...(release && c.canary_phase ? { canaryPhase: c.canary_phase } : {}),
      }),
    );
    if (!won) return false;
    await this.requeue(id, {});
    this.deps.logger?.info({ campaignId: id }, 'campaign resumed');
    return true;
  }

  /** Enqueue a fan-out that first re-adds the campaign's queued rows (idempotent: job ids dedupe). */
  async requeue(id: number, opts: { updatedBefore?: number }): Promise<void> {
    const existing = await this.deps.queues.fanout.getJob(fanoutJobId(id));
    const requeue = { after: 0, updatedBefore: opts.updatedBefore };
    if (existing) {
      await existing.updateData({ ...existing.data, requeue }).catch(() => undefined);
      return;
    }
    await enqueueFanout(this.deps.queues.fanout, { campaignId: id, requeue });
  }

  /** Cancel: rows not sent yet are marked cancelled; returns how many people will not get it. */
  async cancel(id: number, actor: Actor = SYSTEM_ACTOR): Promise<{ cancelled: boolean; unsent: number }> {
    const c = await this.get(id);
    if (!canTransition(c.status, 'cancel')) throw new StateError(`campaign ${id} is ${c.status}; it cannot be cancelled`);
    const { from, to } = transition('cancel');
    const won = await this.change(id, 'cancelled', actor, `was ${c.status}`, (campaigns) =>
      campaigns.transition(id, from, to, { finished_at: this.now() }, this.now()),
    );
    if (!won) throw new StateError(`campaign ${id} is ${c.status}; it cannot be cancelled`);
    const rows = await this.deps.ledger.cancelQueued(id, this.now());
    const counts = await this.deps.ledger.counts(id, 0);
    // Cancelled before the fan-out counted the audience: count it now (cancel is rare).
    const total = c.fanout_done || c.total_known ? c.total : await this.deps.audience.audienceCount(audienceOf(c));
    const notFannedOut = c.fanout_done ? 0 : Math.max(0, total - counts.rows);
    const unsent = rows + notFannedOut;
    this.deps.logger?.info({ campaignId: id, unsent }, 'campaign cancelled');
    return { cancelled: true, unsent };
  }

  /** sending → sent once the fan-out is done and no row is queued or in flight. */
  async checkCompletion(id: number): Promise<boolean> {
    const c = await this.deps.campaigns.get(id);
    if (!c || !canTransition(c.status, 'finish') || !c.fanout_done) return false;
    if ((await this.deps.ledger.openCount(id)) > 0) return false;
    const { from, to } = transition('finish');
    const won = await this.change(id, 'finished', SYSTEM_ACTOR, null, (campaigns) =>
      campaigns.transition(id, from, to, { finished_at: this.now() }, this.now()),
    );
    if (won) this.deps.logger?.info({ campaignId: id }, 'campaign sent');
    return won;
  }

  /**
   * Fire scheduled campaigns that are due. One whose time passed more than `graceMs` ago
   * (everything was down) is not fired late: it is marked and waits for `campaigns resume`.
   */
  async fireDueSchedules(graceMs: number): Promise<{ fired: number[]; missed: number[] }> {
    const now = this.now();
    const fired: number[] = [];
    const missed: number[] = [];
    for (const c of await this.deps.campaigns.byStatus(['scheduled'])) {
      if (c.scheduled_at === null || c.scheduled_at > now) continue;
      if (now - c.scheduled_at <= graceMs) {
        if (await this.startIf(c, { scheduledAt: c.scheduled_at }, SYSTEM_ACTOR, 'the schedule fired').catch(() => false)) fired.push(c.id);
      } else if (c.paused_reason !== 'schedule-missed') {
        // Not a status change: the campaign stays scheduled, marked, until an editor resumes
        // (starts) or reschedules it. Guarded by the time seen, so a moved schedule is not marked.
        const due = c.scheduled_at;
        const marked = await this.change(c.id, 'schedule-missed', SYSTEM_ACTOR, `was due ${new Date(due).toISOString()}`, (campaigns) =>
          campaigns.patch(c.id, [c.status], { paused_reason: 'schedule-missed', paused_note: null }, now, { scheduledAt: due }),
        );
        if (!marked) continue;
        this.deps.logger?.warn({ campaignId: c.id, scheduledAt: new Date(c.scheduled_at).toISOString() },
          'scheduled send missed its time while the system was down; run `campaigns resume ID` to send it now');
        missed.push(c.id);
      }
    }
    return { fired, missed };
  }

  /**
   * The fan-out's first step for a campaign with a canary (phase `selecting`): choose and write
   * the wave's ledger rows (DeliveryLedger.insertCanaryWave) and move the phase to `wave`, in
   * one transaction, so the wave is written once and whole whatever crashes. False when
   * there is nothing to write (no canary, already written, not sending).
   */
  async writeCanaryWave(id: number): Promise<boolean> {
    const c = await this.get(id);
    if (!isSending(c.status) || c.canary_phase !== 'selecting' || !c.canary_size) return false;
    const now = this.now();
    const filter = audienceOf(c);
    const work = async (campaigns: CampaignsRepository, ledger: Pick<DeliveryLedger, 'insertCanaryWave'>, activity: ActivityUnit['campaignActivity']) => {
      // The phase moves first: on PostgreSQL its row lock makes a racing second writer wait and then lose.
      if (!(await campaigns.patch(id, [c.status], { canary_phase: 'wave' }, now, { canaryPhase: 'selecting' }))) return false;
      // Seed: the campaign id, so a retried write picks the same people.
      const n = await ledger.insertCanaryWave(id, filter, c.canary_size!, id, now);
      await activity.record(id, 'canary-wave', SYSTEM_ACTOR, now, `${n} recipient(s) (${c.canary_percent}%): most recently engaged first, then random`);
      return true;
    };
    const units = this.deps.units;
    const won = units
      ? await units.transaction((r) => work(r.campaigns, r.ledger ?? this.deps.ledger, r.campaignActivity))
      : await work(this.deps.campaigns, this.deps.ledger, NO_ACTIVITY);
    if (won) this.deps.logger?.info({ campaignId: id, size: c.canary_size }, 'canary wave written');
    return won;
  }

  /**
   * The sweep's step for a campaign holding for its canary (crash-safe: everything it needs is
   * in the database, the deadline included; any worker's next sweep carries on).
   *  - `wave`: once no wave row is queued or in flight, move to `waiting` with the deadline
   *    now + the wait (persisted in `canary_until`);
   *  - `waiting`: the wave's rates or failures cross the line → pause (code `canary`, the note
   *    names the rate); the deadline passed clean → release the rest; else hold.
   * Returns what it did.
   */
  async advanceCanary(id: number): Promise<'none' | 'holding' | 'waiting' | 'paused' | 'released'> {
    const c = await this.get(id);
    if (!isSending(c.status)) return 'none';
    const now = this.now();
    if (c.canary_phase === 'wave') {
      const w = await this.deps.ledger.waveCounts(id);
      const o = waveOutcomes(w);
      if (o.open > 0) return 'holding';
      const until = now + (c.canary_wait_ms ?? this.canary.waitMs);
      const won = await this.change(id, 'canary-waiting', SYSTEM_ACTOR, `wave out (${o.sent} sent, ${o.failed} failed); the rest waits until ${new Date(until).toISOString()}`, (campaigns) =>
        campaigns.patch(id, [c.status], { canary_phase: 'waiting', canary_until: until }, now, { canaryPhase: 'wave' }),
      );
      return won ? 'waiting' : 'none';
    }
    if (c.canary_phase !== 'waiting') return 'none';
    const decision = decideCanary(await this.deps.ledger.waveCounts(id), this.canary.breaker, now, c.canary_until ?? now);
    if (decision.kind === 'hold') return 'holding';
    if (decision.kind === 'pause') return (await this.pause(id, { code: 'canary', note: decision.note })) ? 'paused' : 'none';
    return (await this.releaseCanary(c, 'the wait passed and the wave stayed under the limits')) ? 'released' : 'none';
  }

  /** waiting → released (conditional on the phase read), then the fan-out goes on with the rest. */
  private async releaseCanary(c: Campaign, detail: string): Promise<boolean> {
    const phase: CanaryPhase | null = c.canary_phase;
    if (!phase || !canAdvanceCanary(phase, 'released')) return false;
    const won = await this.change(c.id, 'canary-released', SYSTEM_ACTOR, detail, (campaigns) =>
      campaigns.patch(c.id, [c.status], { canary_phase: 'released' }, this.now(), { canaryPhase: phase }),
    );
    if (!won) return false;
    // Lost here (a crash after the commit)? The sweep restarts a released campaign's fan-out.
    await this.requeue(c.id, {});
    this.deps.logger?.info({ campaignId: c.id }, 'canary released: the rest goes out');
    return true;
  }

  async stats(id: number): Promise<StatsBase & HealthFigures> {
    const [base, health] = await Promise.all([this.progressStats(id), healthFigures(this.deps.health, id)]);
    return { ...base, ...health };
  }

  /**
   * `stats` without the engagement and provider figures (those read the campaign's open and
   * click events): counts from the ledger counters only. The dashboard list.
   */
  async progressStats(id: number): Promise<StatsBase> {
    const c = await this.get(id);
    const now = this.now();
    const counts = await this.deps.ledger.counts(id, now - (this.deps.uncertainAfterMs ?? 30_000));
    const stats = deriveCampaignStats({
      status: c.status,
      total: c.total,
      totalKnown: c.total_known === 1,
      startedAt: c.started_at,
      finishedAt: c.finished_at,
      fanoutDone: c.fanout_done === 1,
      byStatus: counts.byStatus,
      uncertain: counts.uncertain,
      opened: counts.opened,
      clicked: counts.clicked,
      rows: counts.rows,
      now,
    });
    const canary = c.canary_phase === null ? null : canaryView(c, await this.deps.ledger.waveCounts(id), now);
    return {
      id,
      ...stats,
      pause_code: c.paused_reason,
      paused_reason: describePause(c.paused_reason, c.paused_note),
      canary,
      canary_text: canary ? describeCanary(canary) : null,
    };
  }

}

type StatsBase = CampaignStats & { id: number; pause_code: PauseCode | null; paused_reason: string | null; canary: CanaryView | null; canary_text: string | null };

/** The campaign's frozen audience (the freeze `start` wrote), as the audience queries take it. */
export function audienceOf(c: Campaign): { listId: number; maxSubscriberId?: number; joinedBefore?: number } {
  return { listId: c.list_id, maxSubscriberId: c.audience_max_subscriber_id ?? undefined, joinedBefore: c.started_at ?? undefined };
}

/** "60 min", "2 s": the wait as people say it. */
function formatWait(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 100) / 10} s`;
}
