/**
 * Which issues are public: every campaign that started sending (sending, paused or sent;
 * not drafts, schedules or cancelled ones) and has a frozen compiled issue. An issue sent
 * to several lists appears once, as its most recent send.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { CompiledIssue } from '../render/types.js';

const PUBLIC_STATUSES = ['sending', 'paused', 'sent'] as const;

export interface ArchiveEntry {
  campaignId: number;
  slug: string;
  title: string;
  /** Issue date from front matter (ISO), else null. */
  issueDate: string | null;
  /** When sending started (epoch ms). */
  sentAt: number;
}

export interface ArchivedIssue extends ArchiveEntry {
  compiled: CompiledIssue;
}

export class ArchiveRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Newest first, one entry per slug. */
  async list(limit = 1000): Promise<ArchiveEntry[]> {
    const rows = await this.db
      .selectFrom('campaigns')
      .select(['id', 'issue_slug', 'issue_title', 'issue_date', 'started_at'])
      .where('status', 'in', PUBLIC_STATUSES)
      .where('compiled_json', 'is not', null)
      .where('started_at', 'is not', null)
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit * 4)
      .execute();
    const seen = new Set<string>();
    const out: ArchiveEntry[] = [];
    for (const r of rows) {
      if (seen.has(r.issue_slug)) continue;
      seen.add(r.issue_slug);
      out.push({ campaignId: Number(r.id), slug: r.issue_slug, title: r.issue_title, issueDate: r.issue_date, sentAt: r.started_at as number });
      if (out.length >= limit) break;
    }
    return out;
  }

  async findBySlug(slug: string): Promise<ArchivedIssue | undefined> {
    const row = await this.db
      .selectFrom('campaigns')
      .select(['id', 'issue_slug', 'issue_title', 'issue_date', 'started_at', 'compiled_json'])
      .where('issue_slug', '=', slug)
      .where('status', 'in', PUBLIC_STATUSES)
      .where('compiled_json', 'is not', null)
      .where('started_at', 'is not', null)
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .executeTakeFirst();
    if (!row?.compiled_json) return undefined;
    return {
      campaignId: Number(row.id),
      slug: row.issue_slug,
      title: row.issue_title,
      issueDate: row.issue_date,
      sentAt: row.started_at as number,
      compiled: JSON.parse(row.compiled_json) as CompiledIssue,
    };
  }
}
