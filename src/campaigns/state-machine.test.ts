import { describe, expect, it } from 'vitest';
import { allowedActions, canTransition, isEditable, isFinal, isLive, isSending, resumeMeans, transition } from './state-machine.js';
import type { CampaignStatus } from '../store/schema.js';

const STATUSES: CampaignStatus[] = ['draft', 'scheduled', 'sending', 'paused', 'sent', 'cancelled'];

describe('allowedActions', () => {
  it('lists, for each status, the actions whose transition starts there', () => {
    expect(allowedActions('draft')).toEqual(['schedule', 'start', 'cancel']);
    expect(allowedActions('scheduled')).toEqual(['schedule', 'unschedule', 'start', 'cancel']);
    expect(allowedActions('sending')).toEqual(['pause', 'cancel', 'finish']);
    expect(allowedActions('paused')).toEqual(['resume', 'cancel']);
    expect(allowedActions('sent')).toEqual([]);
    expect(allowedActions('cancelled')).toEqual([]);
  });

  it('agrees with canTransition and isFinal for every status', () => {
    for (const status of STATUSES) {
      for (const action of allowedActions(status)) expect(canTransition(status, action)).toBe(true);
      expect(isFinal(status)).toBe(allowedActions(status).length === 0);
    }
  });
});

describe('schedule', () => {
  it('moving a pending schedule is an explicit scheduled → scheduled transition', () => {
    expect(transition('schedule')).toEqual({ from: ['draft', 'scheduled'], to: 'scheduled' });
    expect(canTransition('sending', 'schedule')).toBe(false);
    expect(canTransition('paused', 'schedule')).toBe(false);
  });
});

describe('unschedule', () => {
  it('takes only a scheduled campaign back to draft; drafts and scheduled ones are editable', () => {
    expect(transition('unschedule')).toEqual({ from: ['scheduled'], to: 'draft' });
    expect(STATUSES.filter((s) => canTransition(s, 'unschedule'))).toEqual(['scheduled']);
    expect(STATUSES.filter(isEditable)).toEqual(['draft', 'scheduled']);
  });
});

describe('resumeMeans', () => {
  it('resumes a paused campaign, starts a scheduled one, refuses the rest', () => {
    expect(STATUSES.map((s) => [s, resumeMeans(s)])).toEqual([
      ['draft', null],
      ['scheduled', 'start'],
      ['sending', null],
      ['paused', 'resume'],
      ['sent', null],
      ['cancelled', null],
    ]);
  });
});

describe('status groups', () => {
  it('only a sending campaign is worked on; scheduled, sending and paused ones are live', () => {
    expect(STATUSES.filter(isSending)).toEqual(['sending']);
    expect(STATUSES.filter(isLive)).toEqual(['scheduled', 'sending', 'paused']);
  });
});
