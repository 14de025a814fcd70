/**
 * What submitting an issue again does (the CI path: `POST /api/campaigns` on every merge),
 * pure. A campaign is the same issue when it has the same slug on the same list; the
 * newest such campaign decides:
 *
 *   none, or it was cancelled      → create a new draft                  (201)
 *   same content, any other status → answer that campaign, change nothing (200)
 *   other content, draft/scheduled → edit it: the new issue replaces the old, its schedule stays (200)
 *   other content, sending/paused/sent → refuse: it already went (or is going) out (409)
 *
 * "Same content" is the same Markdown and the same subject. A sent issue is never sent
 * twice by resubmitting it; to send it again, give it a new slug.
 */
import type { Campaign, CampaignStatus } from '../store/schema.js';

export type Submission =
  | { kind: 'create' }
  | { kind: 'existing' }
  | { kind: 'edit' }
  | { kind: 'refuse'; reason: string };

const EDITABLE: readonly CampaignStatus[] = ['draft', 'scheduled'];

export function decideResubmission(existing: Pick<Campaign, 'id' | 'status' | 'issue_slug'> | undefined, sameContent: boolean): Submission {
  if (!existing || existing.status === 'cancelled') return { kind: 'create' };
  if (sameContent) return { kind: 'existing' };
  if (EDITABLE.includes(existing.status)) return { kind: 'edit' };
  return {
    kind: 'refuse',
    reason: `issue "${existing.issue_slug}" is already campaign ${existing.id} (${existing.status}) on this list, with other content; it can no longer be edited (give the issue a new slug to send it again)`,
  };
}

/** Whether a submission carries the same issue as the stored campaign. */
export function sameIssue(stored: Pick<Campaign, 'source_markdown' | 'subject'>, submitted: { sourceMarkdown: string; subject: string }): boolean {
  return stored.source_markdown === submitted.sourceMarkdown && stored.subject === submitted.subject;
}
