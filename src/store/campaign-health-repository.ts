import { sql, type Kysely } from 'kysely';
import type { CampaignHealthSource, LinkEngagement, MessageEngagement, ProviderCounts } from '../campaigns/campaign-health.js';
import { isMailboxProvider, type MailboxProvider } from '../events/mailbox-provider.js';
import { providerOfEmailSql } from './provider-sql.js';
import type { Database } from './schema.js';

/**
 * Read model of a campaign's engagement by class (events.engagement) and its health per
 * mailbox provider (deliveries by provider + campaign_provider_counts). Read-only; one
 * code path for SQLite and Postgres.
 */
export class CampaignHealthRepository implements CampaignHealthSource {
  constructor(private readonly db: Kysely<Database>) {}

  /** One row per message with any open or click: which classes were seen. */
  async messageEngagement(campaignId: number): Promise<MessageEngagement[]> {
    const flag = (type: string, engagement?: string) =>
      engagement
        ? sql<number>`max(case when type = ${sql.lit(type)} and engagement = ${sql.lit(engagement)} then 1 else 0 end)`
        : sql<number>`max(case when type = ${sql.lit(type)} then 1 else 0 end)`;
    const rows = await this.db
      .selectFrom('events')
      .select([
        'subscriber_id',
        flag('open', 'human').as('ho'),
        flag('open', 'machine').as('mo'),
        flag('open').as('ao'),
        flag('click', 'human').as('hc'),
        flag('click', 'machine').as('mc'),
        flag('click').as('ac'),
      ])
      .where('campaign_id', '=', campaignId)
      .where('type', 'in', ['open', 'click'])
      .where('subscriber_id', 'is not', null)
      .groupBy('subscriber_id')
      .execute();
    return rows.map((r) => ({
      humanOpen: Number(r.ho) === 1,
      machineOpen: Number(r.mo) === 1,
      anyOpen: Number(r.ao) === 1,
      humanClick: Number(r.hc) === 1,
      machineClick: Number(r.mc) === 1,
      anyClick: Number(r.ac) === 1,
    }));
  }

  async providerCounts(campaignId: number): Promise<ProviderCounts[]> {
    const provider = providerOfEmailSql(this.db);
    const [ledger, counters] = await Promise.all([
      this.db
        .selectFrom('deliveries')
        .select([provider.as('provider'), 'status', sql<number>`count(*)`.as('n')])
        .where('campaign_id', '=', campaignId)
        .where('status', 'in', ['sent', 'delivered', 'bounced', 'complained'])
        .groupBy([sql`1`, 'status'])
        .execute(),
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

  /** Clicks per link by class, most human clicks first. */
  async linkEngagement(campaignId: number, limit = 20): Promise<LinkEngagement[]> {
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
      .where('type', '=', 'click')
      .where('detail', 'is not', null)
      .groupBy('detail')
      .orderBy(sql`2`, 'desc')
      .orderBy(sql`count(*)`, 'desc')
      .orderBy('detail')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ url: r.detail!, human: Number(r.human), human_unique: Number(r.human_unique), machine: Number(r.machine), unknown: Number(r.unknown) }));
  }
}
