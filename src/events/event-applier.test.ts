import { describe, expect, it } from 'vitest';
import type { PauseReason } from '../campaigns/pause-reason.js';
import type { NotificationInput, WriteResult } from '../store/event-writer.js';
import { EventApplier } from './event-applier.js';

const input: NotificationInput = { snsMessageId: 'sns-1', message: '{}', events: [] };

/** A writer that answers `result` and records when it settled, and a pauser that records its calls. */
function fakes(result: WriteResult, pausedIds: number[]) {
  const log: string[] = [];
  const pauses: Array<{ id: number; reason: PauseReason }> = [];
  const writer = {
    async write() {
      log.push('committed');
      return result;
    },
  };
  const pauser = {
    async pause(id: number, reason: PauseReason) {
      log.push(`pause ${id}`);
      pauses.push({ id, reason });
      return pausedIds.includes(id);
    },
  };
  return { applier: new EventApplier(writer, pauser), log, pauses };
}

describe('EventApplier', () => {
  it('pauses each campaign whose breaker tripped through the orchestrator, after the commit, and reports only the pauses it won', async () => {
    const tripped = [
      { campaignId: 3, code: 'breaker' as const, reason: 'complaint rate 1.00% (2/200) reached the limit 0.10%' },
      { campaignId: 4, code: 'provider-breaker' as const, reason: 'microsoft bounce rate 6.00% (6/100) reached the per-provider limit 3.00%' },
    ];
    // Campaign 4 was no longer sending (already paused, finished or cancelled): its pause does not win.
    const { applier, log, pauses } = fakes({ applied: true, stored: 2, tripped }, [3]);
    const result = await applier.apply(input, 1000);
    expect(log).toEqual(['committed', 'pause 3', 'pause 4']);
    expect(pauses).toEqual([
      { id: 3, reason: { code: 'breaker', note: tripped[0]!.reason } },
      { id: 4, reason: { code: 'provider-breaker', note: tripped[1]!.reason } },
    ]);
    expect(result).toEqual({ applied: true, stored: 2, paused: [tripped[0]] });
  });

  it('asks for no pause when nothing tripped, and passes a replay through', async () => {
    const { applier, pauses } = fakes({ applied: false, stored: 0, tripped: [] }, []);
    expect(await applier.apply(input)).toEqual({ applied: false, stored: 0, paused: [] });
    expect(pauses).toEqual([]);
  });
});
