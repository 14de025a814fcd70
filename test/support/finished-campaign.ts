/**
 * A finished campaign with a realistic ledger and event mix, seeded directly (retention and
 * plan tests): `n` recipients `${prefix}${i}@example.com` (subscribers of no list, so a live
 * campaign's audience is not changed), mostly delivered, some bounced (suppressed), a few
 * complaints (suppressed), failures and skips; a third opened, a seventh clicked one of three
 * links; one SES event row per outcome, open and click, all created at `finishedAt` or before.
 */
import type { Insertable, Kysely } from 'kysely';
import type { CampaignStatus, Database, DeliveryStatus, EventsTable } from '../../src/store/schema.js';
import { rebuildEngagementMarks } from '../../src/store/engagement-marks.js';

export const FIXTURE_LINKS = ['https://example.com/a', 'https://example.com/b', 'https://example.com/c'];

export interface FinishedCampaignOptions {
  listId: number;
  n: number;
  finishedAt: number;
  prefix: string;
  status?: CampaignStatus;
}

function outcomeOf(i: number): DeliveryStatus {
  if (i % 50 === 1) return 'bounced';
  if (i % 400 === 7) return 'complained';
  if (i % 97 === 3) return 'failed';
  if (i % 101 === 5) return 'skipped';
  return 'delivered';
}

export async function seedFinishedCampaign(db: Kysely<Database>, o: FinishedCampaignOptions): Promise<number> {
  const startedAt = o.finishedAt - 3_600_000;
  const c = await db
    .insertInto('campaigns')
    .values({
      list_id: o.listId, status: o.status ?? 'sent', subject: `Old issue ${o.prefix}`, issue_title: 'Old', issue_slug: `old-${o.prefix}`, issue_date: null,
      source_path: null, source_markdown: '', compiled_json: null, scheduled_at: null, started_at: startedAt,
      finished_at: (o.status ?? 'sent') === 'sent' || o.status === 'cancelled' ? o.finishedAt : null,
      audience_max_subscriber_id: null, fanout_cursor: 0, fanout_done: 1, total: o.n, paused_reason: null, created_at: startedAt, updated_at: o.finishedAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const campaignId = Number(c.id);
  for (let start = 0; start < o.n; start += 400) {
    const idx = Array.from({ length: Math.min(400, o.n - start) }, (_, k) => start + k);
    const emails = idx.map((i) => `${o.prefix}${i}@example.com`);
    const subs = await db
      .insertInto('subscribers')
      .values(emails.map((email) => ({ email, name: null, status: 'active' as const, attributes: '{}', status_reason: null, created_at: startedAt, updated_at: startedAt })))
      .returning('id')
      .execute();
    const events: Insertable<EventsTable>[] = [];
    const rows = idx.map((i, k) => {
      const status = outcomeOf(i);
      const sent = status !== 'failed' && status !== 'skipped';
      const sentAt = startedAt + Math.floor((i / o.n) * 3_000_000);
      const opened = sent && status !== 'bounced' && i % 3 === 0;
      const clicked = opened && i % 7 === 0;
      const ses = `ses-${o.prefix}-${i}`;
      // Opens and clicks carry a class (src/events/engagement-class.ts): people, Apple MPP/scanners, and some unknown.
      const engagement = (type: string) => (type !== 'open' && type !== 'click' ? null : i % 5 === 0 ? 'machine' : i % 5 === 3 ? 'unknown' : 'human');
      const ev = (type: string, subtype: string | null, detail: string | null, at: number) =>
        events.push({ sns_message_id: `sns-${o.prefix}-${i}-${type}`, type, subtype, ses_message_id: ses, email: emails[k]!, campaign_id: campaignId, subscriber_id: Number(subs[k]!.id), detail, occurred_at: at, payload: '{}', engagement: engagement(type), created_at: at });
      if (sent) ev(status === 'bounced' ? 'bounce' : 'delivery', status === 'bounced' ? 'Permanent' : null, status === 'bounced' ? '550 user unknown' : null, sentAt + 500);
      if (status === 'complained') ev('complaint', 'abuse', null, sentAt + 60_000);
      if (opened) ev('open', null, null, sentAt + 120_000);
      if (clicked) ev('click', null, FIXTURE_LINKS[Math.floor(i / 21) % 3]!, sentAt + 180_000);
      return {
        campaign_id: campaignId, subscriber_id: Number(subs[k]!.id), email: emails[k]!, status, ses_message_id: sent ? ses : null, attempts: 1,
        last_error: status === 'failed' ? 'MessageRejected' : null, claimed_by: null, claimed_at: null, sent_at: sent ? sentAt : null,
        confirmed_at: null, outcome_at: sent ? sentAt + 500 : null, opened_at: opened ? sentAt + 120_000 : null, clicked_at: clicked ? sentAt + 180_000 : null,
        created_at: startedAt, updated_at: o.finishedAt,
      };
    });
    await db.insertInto('deliveries').values(rows).execute();
    for (let e = 0; e < events.length; e += 400) await db.insertInto('events').values(events.slice(e, e + 400)).execute();
    const suppressed = rows.filter((r) => r.status === 'bounced' || r.status === 'complained');
    if (suppressed.length > 0) {
      await db
        .insertInto('suppressions')
        .values(suppressed.map((r) => ({ email: r.email, reason: r.status === 'bounced' ? ('bounced' as const) : ('complained' as const), detail: null, created_at: o.finishedAt })))
        .execute();
    }
  }
  // Seeded past the event writer: the engagement counters it would have kept (migration 0020).
  await rebuildEngagementMarks(db, campaignId);
  return campaignId;
}
