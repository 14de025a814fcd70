/**
 * Applies SES notifications: hands each one to the store's batched event writer (which
 * stores it once per SNS MessageId and executes the effects the rules decide, see
 * event-effects.ts) and, after that transaction has committed, asks the campaign
 * orchestrator — the one owner of campaign state — to pause a campaign whose reputation
 * breaker tripped.
 */
import type { CampaignOrchestrator } from '../campaigns/campaign-orchestrator.js';
import type { Store } from '../store/db.js';
import { createEventWriter, type NotificationInput, type TrippedBreaker, type WriteResult } from '../store/event-writer.js';
import { eventRules, type EventsConfig } from './event-effects.js';

/** What the applier needs of the orchestrator. */
export type CampaignPauser = Pick<CampaignOrchestrator, 'pause'>;

/** What the applier needs of the store. */
export interface NotificationWriter {
  write(input: NotificationInput, now?: number): Promise<WriteResult>;
}

export interface ApplyResult {
  /** False when this SNS MessageId was seen before: nothing changed. */
  applied: boolean;
  /** Event rows written. */
  stored: number;
  /** Campaigns the reputation breaker paused because of this notification. */
  paused: TrippedBreaker[];
}

export class EventApplier {
  constructor(
    private readonly writer: NotificationWriter,
    private readonly pauser: CampaignPauser,
  ) {}

  /**
   * Store a notification's events and apply their effects, once per SNS MessageId.
   *
   * The breaker is decided inside the writer's transaction (the counts include this
   * notification's moves) and acted on here, after the commit, through the orchestrator.
   * That is safe because pausing is the orchestrator's conditional transition
   * sending → paused: a campaign already paused, finished or cancelled is left alone, and two
   * notifications tripping the same breaker pause it once (only the winner is reported).
   * A crash (or a failing pause) between the commit and the pause leaves the notification
   * stored and unanswered (or answered 5xx), so SNS retries it: the retry is a replay that
   * changes nothing, but the writer re-reads the breaker of a replayed bounce/complaint's
   * campaign and reports it tripped, and the pause happens then. Every later bounce or
   * complaint of the campaign re-evaluates the breaker as well.
   */
  async apply(input: NotificationInput, now: number = Date.now()): Promise<ApplyResult> {
    const written = await this.writer.write(input, now);
    if (written.tripped.length === 0) return { applied: written.applied, stored: written.stored, paused: [] };
    const paused: TrippedBreaker[] = [];
    for (const trip of written.tripped) {
      if (await this.pauser.pause(trip.campaignId, { code: trip.code, note: trip.reason })) paused.push(trip);
    }
    return { applied: written.applied, stored: written.stored, paused };
  }
}

/** The applier over a store: its event writer with the rules for `config`. */
export function createEventApplier(store: Store, config: EventsConfig, pauser: CampaignPauser): EventApplier {
  return new EventApplier(createEventWriter(store, eventRules(config)), pauser);
}
