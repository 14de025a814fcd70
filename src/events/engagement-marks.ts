/**
 * A message's engagement mark: which classes of open and click (engagement-class.ts) its
 * recipient's events had, as bits. The event writer keeps one mark per (campaign, recipient)
 * and a per-campaign count of recipients per mark (migration 0020), moving the recipient from
 * its old mark's count to its new one when an event changes the mark, so a campaign's stats
 * read at most 64 counter rows instead of its events. Pure: the store only carries these out.
 *
 * The mark of a recipient is exactly what CampaignHealthRepository's per-message grouping of
 * the events computes (max over the events of each flag): an open or click adds its bits (OR,
 * so a redelivered or duplicate event changes nothing), and a link burst, which reclassifies
 * the message's clicks as machine, replaces the click-class bits by those its clicks have now.
 */
import type { EngagementClass } from './engagement-class.js';

export const MARK = {
  humanOpen: 1,
  machineOpen: 2,
  anyOpen: 4,
  humanClick: 8,
  machineClick: 16,
  anyClick: 32,
} as const;

/** The bits one open or click adds to its recipient's mark. A null class (before migration 0011) is unknown. */
export function markOf(type: 'open' | 'click', cls: EngagementClass | null): number {
  if (type === 'open') return MARK.anyOpen | (cls === 'human' ? MARK.humanOpen : cls === 'machine' ? MARK.machineOpen : 0);
  return MARK.anyClick | (cls === 'human' ? MARK.humanClick : cls === 'machine' ? MARK.machineClick : 0);
}

/** The mark after an event with these bits: what was there, and the event's. */
export function addToMark(old: number, bits: number): number {
  return old | bits;
}

/**
 * The mark after a link burst reclassified the message's clicks: the click-class bits become
 * those of the clicks as they read now (`clicks`: whether any is human / machine), the rest stays.
 */
export function afterBurst(old: number, clicks: { human: boolean; machine: boolean }): number {
  const kept = old & ~(MARK.humanClick | MARK.machineClick);
  return kept | MARK.anyClick | (clicks.human ? MARK.humanClick : 0) | (clicks.machine ? MARK.machineClick : 0);
}

/** How the recipient's counts move when its mark goes from `old` to `next` (0: no mark yet). */
export function markMove(old: number, next: number): { from: number | null; to: number } | null {
  if (old === next) return null;
  return { from: old === 0 ? null : old, to: next };
}
