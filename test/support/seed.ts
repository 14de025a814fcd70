/** Small store fixtures for events and unsubscribe tests (direct inserts; no other helper's code). */
import type { Kysely } from 'kysely';
import type { CampaignStatus, Database, DeliveryStatus } from '../../src/store/schema.js';

export async function seedList(db: Kysely<Database>, name: string): Promise<number> {
  const row = await db.insertInto('lists').values({ name, created_at: 1 }).returning('id').executeTakeFirstOrThrow();
  return Number(row.id);
}

export async function seedSubscriber(db: Kysely<Database>, email: string, listIds: number[] = [], name: string | null = null): Promise<number> {
  const row = await db
    .insertInto('subscribers')
    .values({ email: email.toLowerCase(), name, status: 'active', attributes: '{}', status_reason: null, created_at: 1, updated_at: 1 })
    .returning('id')
    .executeTakeFirstOrThrow();
  const id = Number(row.id);
  for (const listId of listIds) {
    await db.insertInto('list_members').values({ list_id: listId, subscriber_id: id, status: 'subscribed', created_at: 1, updated_at: 1 }).execute();
  }
  return id;
}

export async function seedCampaign(db: Kysely<Database>, listId: number, status: CampaignStatus = 'sending'): Promise<number> {
  const row = await db
    .insertInto('campaigns')
    .values({
      list_id: listId,
      status,
      subject: 'S',
      issue_title: 'T',
      issue_slug: 't',
      issue_date: null,
      source_path: null,
      source_markdown: '',
      compiled_json: null,
      scheduled_at: null,
      started_at: 1,
      finished_at: null,
      audience_max_subscriber_id: null,
      fanout_cursor: 0,
      paused_reason: null,
      created_at: 1,
      updated_at: 1,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

type DeliveryFixture = { campaignId: number; subscriberId: number; email: string; status?: DeliveryStatus; sesMessageId?: string | null };

function deliveryRow(row: DeliveryFixture) {
  return {
    campaign_id: row.campaignId,
    subscriber_id: row.subscriberId,
    email: row.email,
    status: row.status ?? ('sent' as const),
    ses_message_id: row.sesMessageId ?? null,
    last_error: null,
    claimed_by: null,
    claimed_at: null,
    sent_at: row.status === 'sending' ? null : 1,
    confirmed_at: null,
    outcome_at: null,
    opened_at: null,
    clicked_at: null,
    created_at: 1,
    updated_at: 1,
  };
}

export async function seedDelivery(db: Kysely<Database>, row: DeliveryFixture): Promise<void> {
  await db.insertInto('deliveries').values(deliveryRow(row)).execute();
}

/**
 * `count` subscribers `${emailPrefix}${i}@example.com` (not on any list) with a ledger row each
 * in `campaignId`, SES message id `${sesPrefix}${i}`, inserted 500 at a time. Returns the
 * subscriber ids in order.
 */
export async function seedDeliveries(
  db: Kysely<Database>,
  campaignId: number,
  count: number,
  opts: { emailPrefix: string; sesPrefix: string; status?: DeliveryStatus; domain?: string },
): Promise<number[]> {
  const out: number[] = [];
  for (let start = 0; start < count; start += 500) {
    const emails = Array.from({ length: Math.min(500, count - start) }, (_, k) => `${opts.emailPrefix}${start + k}@${opts.domain ?? 'example.com'}`);
    const ids = await db
      .insertInto('subscribers')
      .values(emails.map((email) => ({ email, name: null, status: 'active' as const, attributes: '{}', status_reason: null, created_at: 1, updated_at: 1 })))
      .returning('id')
      .execute();
    await db
      .insertInto('deliveries')
      .values(ids.map((r, k) => deliveryRow({ campaignId, subscriberId: Number(r.id), email: emails[k]!, status: opts.status, sesMessageId: `${opts.sesPrefix}${start + k}` })))
      .execute();
    out.push(...ids.map((r) => Number(r.id)));
  }
  return out;
}

export async function delivery(db: Kysely<Database>, campaignId: number, subscriberId: number) {
  return db.selectFrom('deliveries').selectAll().where('campaign_id', '=', campaignId).where('subscriber_id', '=', subscriberId).executeTakeFirstOrThrow();
}

export async function subscriberByEmail(db: Kysely<Database>, email: string) {
  return db.selectFrom('subscribers').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
}

export async function suppression(db: Kysely<Database>, email: string) {
  return db.selectFrom('suppressions').selectAll().where('email', '=', email).executeTakeFirst();
}
