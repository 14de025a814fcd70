import { describe, expect, it } from 'vitest';
import { leastRole, may, PERMISSIONS } from './role-policy.js';

describe('role policy', () => {
  it('lets editors create, test, send and pause, and keeps resume, cancel, erase, tokens and bull-board for admins', () => {
    for (const p of ['campaigns.read', 'campaigns.create', 'campaigns.test', 'campaigns.send', 'campaigns.pause', 'dashboard.view'] as const) {
      expect(may('editor', p)).toBe(true);
    }
    for (const p of ['campaigns.resume', 'campaigns.cancel', 'subscribers.erase', 'tokens.list', 'queues.board'] as const) {
      expect(may('editor', p)).toBe(false);
      expect(leastRole(p)).toBe('admin');
    }
  });

  it('lets admins do everything', () => {
    for (const p of PERMISSIONS) expect(may('admin', p)).toBe(true);
  });
});
