import { describe, expect, it } from 'vitest';
import { decideResubmission, sameIssue } from './resubmission.js';
import type { CampaignStatus } from '../store/schema.js';

const campaign = (status: CampaignStatus) => ({ id: 7, status, issue_slug: 'week-48' });

describe('decideResubmission', () => {
  it('creates when there is no campaign of the issue, or it was cancelled', () => {
    expect(decideResubmission(undefined, false)).toEqual({ kind: 'create' });
    expect(decideResubmission(campaign('cancelled'), true)).toEqual({ kind: 'create' });
  });

  it('answers the campaign unchanged when the content is the same, whatever its status', () => {
    for (const status of ['draft', 'scheduled', 'sending', 'paused', 'sent'] as const) {
      expect(decideResubmission(campaign(status), true)).toEqual({ kind: 'existing' });
    }
  });

  it('edits a draft or scheduled campaign whose content changed, refuses one that went out', () => {
    expect(decideResubmission(campaign('draft'), false)).toEqual({ kind: 'edit' });
    expect(decideResubmission(campaign('scheduled'), false)).toEqual({ kind: 'edit' });
    for (const status of ['sending', 'paused', 'sent'] as const) {
      const d = decideResubmission(campaign(status), false);
      expect(d.kind).toBe('refuse');
      expect(d.kind === 'refuse' && d.reason).toContain(`campaign 7 (${status})`);
    }
  });

  it('compares Markdown and subject', () => {
    const stored = { source_markdown: '# A', subject: 'A' };
    expect(sameIssue(stored, { sourceMarkdown: '# A', subject: 'A' })).toBe(true);
    expect(sameIssue(stored, { sourceMarkdown: '# A ', subject: 'A' })).toBe(false);
    expect(sameIssue(stored, { sourceMarkdown: '# A', subject: 'B' })).toBe(false);
  });
});
