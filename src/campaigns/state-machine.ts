/**
 * Campaign lifecycle, pure: which transitions exist and, from them, which actions a status
 * allows. The orchestrator turns each transition into a conditional UPDATE … WHERE status
 * IN (from), so two racing callers cannot both win; the CLI, the API and the dashboard ask
 * `allowedActions` / `canTransition` instead of restating status lists.
 *
 *   draft ⇄ scheduled ─▶ sending ⇄ paused
 *     │        ↺ │           │        │
 *     └──────────┴──────▶    ▼        ▼
 *                           sent   cancelled (from any non-final state)
 *
 * (↺: scheduling a scheduled campaign moves its time; scheduled → draft is `unschedule`:
 * an editor calls a pending send off before it starts and keeps the draft, which is not
 * `cancel` — that ends the campaign for good and is for admins.)
 */
import type { CampaignStatus } from '../store/schema.js';

export type CampaignAction = 'schedule' | 'unschedule' | 'start' | 'pause' | 'resume' | 'cancel' | 'finish';

export const CAMPAIGN_ACTIONS: readonly CampaignAction[] = ['schedule', 'unschedule', 'start', 'pause', 'resume', 'cancel', 'finish'];

const TRANSITIONS: Record<CampaignAction, { from: readonly CampaignStatus[]; to: CampaignStatus }> = {
  // scheduled → scheduled is explicit: it moves a pending schedule (and clears a missed mark).
  schedule: { from: ['draft', 'scheduled'], to: 'scheduled' },
  // A pending send called off before it starts: back to an editable draft.
  unschedule: { from: ['scheduled'], to: 'draft' },
  start: { from: ['draft', 'scheduled'], to: 'sending' },
  pause: { from: ['sending'], to: 'paused' },
  resume: { from: ['paused'], to: 'sending' },
  cancel: { from: ['draft', 'scheduled', 'sending', 'paused'], to: 'cancelled' },
  finish: { from: ['sending'], to: 'sent' },
};

export function transition(action: CampaignAction): { from: readonly CampaignStatus[]; to: CampaignStatus } {
  return TRANSITIONS[action];
}

export function canTransition(status: CampaignStatus, action: CampaignAction): boolean {
  return TRANSITIONS[action].from.includes(status);
}

/** Every action a campaign in `status` allows, in CAMPAIGN_ACTIONS order. */
export function allowedActions(status: CampaignStatus): CampaignAction[] {
  return CAMPAIGN_ACTIONS.filter((action) => canTransition(status, action));
}

/**
 * What "resume" means in a status: a paused campaign resumes; a scheduled one starts now
 * (the editor's confirmation of a schedule whose time passed while the system was down).
 * null: resume is refused.
 */
export function resumeMeans(status: CampaignStatus): 'resume' | 'start' | null {
  if (canTransition(status, 'resume')) return 'resume';
  if (status === transition('schedule').to && canTransition(status, 'start')) return 'start';
  return null;
}

/** The one status in which the pipeline works on a campaign (fan-out, sends, completion). */
export function isSending(status: CampaignStatus): boolean {
  return status === transition('start').to;
}

/** Scheduled, sending or paused: its numbers or its status may still move without an editor. */
export function isLive(status: CampaignStatus): boolean {
  return !isFinal(status) && status !== 'draft';
}

/** Draft or scheduled: the issue may still be edited (it has not started). */
export function isEditable(status: CampaignStatus): boolean {
  return canTransition(status, 'start');
}

/** Sent or cancelled: no action leads anywhere from it. */
export function isFinal(status: CampaignStatus): boolean {
  return allowedActions(status).length === 0;
}

/**
 * Canary wave phases of a campaign that is sending (src/campaigns/canary-wave.ts decides when
 * to move; the orchestrator moves, as a conditional update on the phase it read):
 *
 *   selecting ─▶ wave ─▶ waiting ─▶ released
 *   (start)     (wave rows   (all wave   (the wait passed clean, or an
 *                written)     rows out;   editor resumed a canary pause)
 *                             deadline)
 *
 * A canary failure is not a phase: it is the `pause` transition with the `canary` code, and
 * the phase stays `waiting` until a resume releases the rest. null: the campaign has no wave.
 */
export const CANARY_PHASES = ['selecting', 'wave', 'waiting', 'released'] as const;
export type CanaryPhase = (typeof CANARY_PHASES)[number];

const CANARY_NEXT: Record<CanaryPhase, readonly CanaryPhase[]> = {
  selecting: ['wave'],
  wave: ['waiting', 'released'],
  waiting: ['released'],
  released: [],
};

export function canAdvanceCanary(from: CanaryPhase | null, to: CanaryPhase): boolean {
  return from !== null && CANARY_NEXT[from].includes(to);
}

/** Before the release: the fan-out adds nobody beyond the wave. */
export function isCanaryHolding(phase: CanaryPhase | null): boolean {
  return phase !== null && phase !== 'released';
}
