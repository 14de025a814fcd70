import { sql, type Kysely } from 'kysely';
import type { CampaignHealthSource, LinkEngagement, MessageEngagement, ProviderCounts } from '../campaigns/campaign-health.js';
import { MARK } from '../events/engagement-marks.js';
import { isMailboxProvider, type MailboxProvider } from '../events/mailbox-provider.js';
import { readCounters } from './delivery-counters.js';
import type { Database } from './schema.js';

/** What retention keeps of a campaign's health before its ledger and event rows go (campaign_totals.health). */
export interface PersistedHealth {
  messages: MessageEngagement[];
  providers: ProviderCounts[];
  links: LinkEngagement[];
}

/**
 * Read model of a campaign's engagement by class (the engagement counters of migration 0020;
 * per link: events.engagement) and its health per
 * mailbox provider (ledger counters by provider + campaign_provider_counts). Read-only; one
 * code path for SQLite and Postgres. A pruned campaign (retention) reads the figures
 * persisted with its totals (`live()` taken in the prune's transaction), so its stats,
 * provider table and link table read as before the prune.
 */
export class CampaignHealthRepository implements CampaignHealthSource {
  constructor(private readonly db: Kysely<Database>) {}

  /** Everything retention persists, read from the live rows. */
  async live(campaignId: number): Promise<PersistedHealth> {
    return {
      messages: await this.liveMessageEngagement(campaignId),
      providers: await this.liveProviderCounts(campaignId),
      links: await this.liveLinkEngagement(campaignId, null),
    };
  }

  private async persisted(campaignId: number): Promise<PersistedHealth | undefined> {
    const row = await this.db.selectFrom('campaign_totals').select('health').where('campaign_id', '=', campaignId).executeTakeFirst();
    return row?.health ? (JSON.parse(row.health) as PersistedHealth) : undefined;
  }

  async messageEngagement(campaignId: number): Promise<MessageEngagement[]> {
    return (await this.persisted(campaignId))?.messages ?? this.liveMessageEngagement(campaignId);
  }

  async providerCounts(campaignId: number): Promise<ProviderCounts[]> {
    return (await this.persisted(campaignId))?.providers ?? this.liveProviderCounts(campaignId);
  }

  /** Clicks per link by class, most human clicks first. */
  async linkEngagement(campaignId: number, limit = 20): Promise<LinkEngagement[]> {
    const kept = await this.persisted(campaignId);
    return kept ? kept.links.slice(0, limit) : this.liveLinkEngagement(campaignId, limit);
  }

  /**
   * Messages with any open or click, grouped by which classes were seen: the campaign's
   * engagement counters (migration 0020, at most 64 rows whatever the campaign's size), which
   * the event writer keeps equal to grouping the campaign's open and click events per recipient.
   */
  private async liveMessageEngagement(campaignId: number): Promise<MessageEngagement[]> {
    const rows = await this.db
      .selectFrom('campaign_engagement_counts')
      .select(['mark', 'n'])
      .where('campaign_id', '=', campaignId)
      .where('n', '>', 0)
      .execute();
    const has = (mark: number, bit: number) => (mark & bit) !== 0;
    return rows.map((r) => {
      const mark = Number(r.mark);
      return {
        n: Number(r.n),
        humanOpen: has(mark, MARK.humanOpen),
        machineOpen: has(mark, MARK.machineOpen),
        anyOpen: has(mark, MARK.anyOpen),
        humanClick: has(mark, MARK.humanClick),
        machineClick: has(mark, MARK.machineClick),
        anyClick: has(mark, MARK.anyClick),
      };
    });
  }

  private async liveProviderCounts(campaignId: number): Promise<ProviderCounts[]> {
    const [ledger, counters] = await Promise.all([
      // Ledger rows per provider from the per-campaign counters (migration 0015), not the rows.
      readCounters(this.db, campaignId, ['sent', 'delivered', 'bounced', 'complained']),
      this.db
        .selectFrom('campaign_provider_counts')
        .select(['provider', 'kind', 'smtp_status', 'n'])
        .where('campaign_id', '=', campaignId)
        .execute(),
    ]);
    const out = new Map<MailboxProvider, ProviderCounts>();
    const row = (p: string) => {
      const name: MailboxProvider = isMailboxProvider(p) ? p : 'other';
      let r = out.get(name);
      if (!r) out.set(name, (r = { provider: name, sent: 0, delivered: 0, bounced: 0, complained: 0, soft_bounces: 0, deferred: 0, statuses: [] }));
      return r;
    };
    for (const l of ledger) {
      const r = row(l.provider);
      const n = Number(l.n);
      r.sent += n;
      // A complaint arrives after a delivery: it was delivered.
      if (l.status === 'delivered' || l.status === 'complained') r.delivered += n;
      if (l.status === 'bounced') r.bounced += n;
      if (l.status === 'complained') r.complained += n;
    }
    for (const c of counters) {
      const r = row(c.provider);
      const n = Number(c.n);
      if (c.kind === 'soft_bounce') r.soft_bounces += n;
      if (c.kind === 'delay') r.deferred += n;
      if (c.smtp_status && c.kind !== 'complaint') {
        const s = r.statuses.find((x) => x.status === c.smtp_status);
        if (s) s.n += n;
        else r.statuses.push({ status: c.smtp_status, n });
      }
    }
    for (const r of out.values()) r.statuses.sort((a, b) => b.n - a.n || a.status.localeCompare(b.status));
    return [...out.values()];
  }

  private async liveLinkEngagement(campaignId: number, limit: number | null): Promise<LinkEngagement[]> {
    const count = (cls: string) => sql<number>`sum(case when engagement = ${sql.lit(cls)} then 1 else 0 end)`;
    const rows = await this.db
      .selectFrom('events')
      .select([
        'detail',
        count('human').as('human'),
        sql<number>`count(distinct case when engagement = 'human' then subscriber_id end)`.as('human_unique'),
        count('machine').as('machine'),
        sql<number>`sum(case when engagement is null or engagement = 'unknown' then 1 else 0 end)`.as('unknown'),
      ])
      .where('campaign_id', '=', campaignId)
      // The partial index events_link_clicks (migration 0022) in its own terms: a literal, not a parameter.
      .where('type', '=', sql.lit('click'))
      .where('detail', 'is not', null)
      .groupBy('detail')
      .orderBy(sql`2`, 'desc')
      .orderBy(sql`count(*)`, 'desc')
      .orderBy('detail')
      .$if(limit !== null, (q) => q.limit(limit!))
      .execute();
    return rows.map((r) => ({ url: r.detail!, human: Number(r.human), human_unique: Number(r.human_unique), machine: Number(r.machine), unknown: Number(r.unknown) }));
  }
}
