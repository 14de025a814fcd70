import { describe, expect, it } from 'vitest';
import { deriveCampaignStats, type StatsInput } from '../../src/campaigns/campaign-stats.js';
import { canTransition, isFinal } from '../../src/campaigns/state-machine.js';

const base: StatsInput = {
  status: 'sending', total: 1000, startedAt: 1_000_000, finishedAt: null, fanoutDone: false,
  byStatus: {}, uncertain: 0, opened: 0, clicked: 0, rows: 0, now: 1_010_000,
};

describe('deriveCampaignStats', () => {
  it('counts audience not fanned out yet as queued and estimates the finish from the rate', () => {
    const s = deriveCampaignStats({ ...base, rows: 600, byStatus: { sent: 300, delivered: 100, bounced: 50, complained: 50, queued: 80, sending: 20 } });
    expect(s.sent).toBe(500);
    expect(s.queued).toBe(80 + 20 + 400);
    expect(s.rate_per_s).toBe(50);
    // 500 left at 50/s = 10 s after now.
    expect(s.eta).toBe(new Date(1_020_000).toISOString());
    expect(s.started_at).toBe(new Date(1_000_000).toISOString());
  });

  it('reports skipped rows as unsubscribed, failures, uncertain, and no ETA when finished or paused', () => {
    const done = deriveCampaignStats({ ...base, status: 'sent', fanoutDone: true, finishedAt: 1_004_000, rows: 10, byStatus: { sent: 7, skipped: 2, failed: 1 }, uncertain: 0 });
    expect(done).toMatchObject({ sent: 7, unsubscribed: 2, failed: 1, queued: 0, eta: null, rate_per_s: 1.75 });
    const paused = deriveCampaignStats({ ...base, status: 'paused', rows: 10, byStatus: { sending: 3, queued: 7 }, uncertain: 3 });
    expect(paused.eta).toBeNull();
    expect(paused.uncertain).toBe(3);
  });

  it('a cancelled campaign has nothing queued', () => {
    const s = deriveCampaignStats({ ...base, status: 'cancelled', rows: 100, byStatus: { sent: 40, cancelled: 60 } });
    expect(s.queued).toBe(0);
    expect(s.cancelled).toBe(60);
  });
});

describe('campaign state machine', () => {
  it('allows only the documented transitions', () => {
    expect(canTransition('draft', 'start')).toBe(true);
    expect(canTransition('scheduled', 'start')).toBe(true);
    expect(canTransition('sending', 'pause')).toBe(true);
    expect(canTransition('paused', 'resume')).toBe(true);
    expect(canTransition('sent', 'resume')).toBe(false);
    expect(canTransition('cancelled', 'start')).toBe(false);
    expect(canTransition('sent', 'cancel')).toBe(false);
    expect(canTransition('paused', 'finish')).toBe(false);
    expect(isFinal('sent') && isFinal('cancelled') && !isFinal('paused')).toBe(true);
  });
});
