/**
 * Campaign lifecycle, pure: which transitions exist. The orchestrator turns each into a
 * conditional UPDATE … WHERE status IN (from), so two racing callers cannot both win.
 *
 *   draft ─▶ scheduled ─▶ sending ⇄ paused
 *     └──────────────────────┘  │       │
 *                               ▼       ▼
 *                              sent   cancelled (from any non-final state)
 */
import type { CampaignStatus } from '../store/schema.js';

export type CampaignAction = 'schedule' | 'start' | 'pause' | 'resume' | 'cancel' | 'finish';

const TRANSITIONS: Record<CampaignAction, { from: readonly CampaignStatus[]; to: CampaignStatus }> = {
  schedule: { from: ['draft'], to: 'scheduled' },
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

export function isFinal(status: CampaignStatus): boolean {
  return status === 'sent' || status === 'cancelled';
}
