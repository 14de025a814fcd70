/**
 * Campaign activity rows (CampaignActivityTable). Only the campaign orchestrator records,
 * inside the transaction of the change it records; everyone else reads.
 */
import type { Kysely } from 'kysely';
import type { ActivityAction, ActivityEntry, Actor, ActorRole } from '../campaigns/campaign-activity.js';
import type { Database } from './schema.js';

export class CampaignActivityRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async record(campaignId: number, action: ActivityAction, actor: Actor, at: number, detail: string | null = null): Promise<void> {
    await this.db
      .insertInto('campaign_activity')
      .values({ campaign_id: campaignId, action, actor_name: actor.name, actor_role: actor.role, detail, at })
      .execute();
  }

  /** Oldest first. */
  async list(campaignId: number, limit = 1000): Promise<ActivityEntry[]> {
    const rows = await this.db
      .selectFrom('campaign_activity')
      .select(['action', 'actor_name', 'actor_role', 'detail', 'at'])
      .where('campaign_id', '=', campaignId)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      action: r.action as ActivityAction,
      actor: { name: r.actor_name, role: r.actor_role as ActorRole },
      detail: r.detail,
      at: Number(r.at),
    }));
  }
}
