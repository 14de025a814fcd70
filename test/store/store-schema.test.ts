import { afterEach, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { BACKENDS, createTestDatabase, createTestStore, type TestStore } from '../support/store.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { openStore } from '../../src/store/db.js';
import { PROVIDER_DOMAINS } from '../../src/events/mailbox-provider.js';
import { seedCampaign, seedList, seedSubscriber } from '../support/seed.js';
import type { Database } from '../../src/store/schema.js';

describe.each(BACKENDS)('store schema on %s', (dialect) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.drop();
    store = undefined;
  });

  it('migrates an empty database, then is a no-op the second time', async () => {
    store = await createTestStore(dialect);
    const now = Date.now();
    const row = await store.db
      .insertInto('subscribers')
      .values({ email: 'a@example.com', name: 'A', status: 'active', attributes: '{}', status_reason: null, created_at: now, updated_at: now })
      .returning(['id', 'created_at'])
      .executeTakeFirstOrThrow();
    expect(row.id).toBeGreaterThan(0);
    expect(row.created_at).toBe(now);
    expect(typeof row.created_at).toBe('number');
    expect(await migrateToLatest(store.db, dialect)).toEqual([]);
  });

  it('keeps emails unique', async () => {
    store = await createTestStore(dialect);
    const values = { email: 'dup@example.com', name: null, status: 'active' as const, attributes: '{}', status_reason: null, created_at: 1, updated_at: 1 };
    await store.db.insertInto('subscribers').values(values).execute();
    await expect(store.db.insertInto('subscribers').values(values).execute()).rejects.toThrow();
  });
});

describe.each(BACKENDS)('migration 0005 (pause reason codes) on %s', (dialect) => {
  let remove: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await remove?.();
    remove = undefined;
  });

  it('turns the free-text reasons written before it into codes and notes', async () => {
    const database = await createTestDatabase(dialect);
    remove = database.remove;
    const store = await openStore(database.url, { migrate: false });
    try {
      await migrateToLatest(store.db, dialect, { upTo: '0004-sending-index' });
      const list = await store.db.insertInto('lists').values({ name: 'l', created_at: 1 }).returning('id').executeTakeFirstOrThrow();
      const campaign = (paused_reason: string | null) => ({
        list_id: list.id, status: 'paused' as const, subject: 's', issue_title: 't', issue_slug: 's', issue_date: null,
        source_path: null, source_markdown: '', compiled_json: '{}', scheduled_at: null, started_at: 1, finished_at: null,
        audience_max_subscriber_id: 1, fanout_cursor: 0, paused_reason, created_at: 1, updated_at: 1,
      });
      // Rows as the code before 0005 wrote them (paused_reason was free text, no paused_note).
      const legacy = store.db as unknown as Kysely<{ campaigns: ReturnType<typeof campaign> }>;
      for (const reason of ['paused by editor', 'reputation breaker: bounce rate 6.00% (6/100) reached the limit 5.00%', 'quota']) {
        await legacy.insertInto('campaigns').values(campaign(reason)).execute();
      }
      expect(await migrateToLatest(store.db, dialect)).toContain('0005-pause-note');
      const rows = await store.db.selectFrom('campaigns').select(['paused_reason', 'paused_note']).orderBy('id').execute();
      expect(rows).toEqual([
        { paused_reason: 'editor', paused_note: null },
        { paused_reason: 'breaker', paused_note: 'bounce rate 6.00% (6/100) reached the limit 5.00%' },
        { paused_reason: 'quota', paused_note: null },
      ]);
    } finally {
      await store.destroy();
    }
  });
});

describe.each(BACKENDS)('migration 0011 (provider counters, engagement class) on %s', (dialect) => {
  let remove: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await remove?.();
    remove = undefined;
  });

  it('keeps events stored before it (class unknown), counts per provider once per key, and rolls back', async () => {
    const database = await createTestDatabase(dialect);
    remove = database.remove;
    const store = await openStore(database.url, { migrate: false });
    try {
      await migrateToLatest(store.db, dialect, { upTo: '0008-campaign-activity' });
      const legacy = store.db as unknown as Kysely<{ events: Record<string, unknown> }>;
      await legacy
        .insertInto('events')
        .values({ sns_message_id: 'old-open', type: 'open', subtype: null, ses_message_id: 'm', email: 'a@gmail.com', campaign_id: null, subscriber_id: null, detail: null, occurred_at: 1, payload: '{}', created_at: 1 })
        .execute();
      // Up to 0011 only, so that the migrateDown below undoes 0011 whatever comes after it.
      expect(await migrateToLatest(store.db, dialect, { upTo: '0011-provider-engagement' })).toContain('0011-provider-engagement');
      expect(await store.db.selectFrom('events').select(['engagement', 'engagement_reason']).executeTakeFirstOrThrow()).toEqual({ engagement: null, engagement_reason: null });
      const list = await store.db.insertInto('lists').values({ name: 'l', created_at: 1 }).returning('id').executeTakeFirstOrThrow();
      const c = await store.db
        .insertInto('campaigns')
        .values({ list_id: list.id, status: 'sending', subject: 's', issue_title: 't', issue_slug: 's', issue_date: null, source_path: null, source_markdown: '', compiled_json: '{}', scheduled_at: null, started_at: 1, finished_at: null, audience_max_subscriber_id: 1, fanout_cursor: 0, paused_reason: null, created_at: 1, updated_at: 1 })
        .returning('id')
        .executeTakeFirstOrThrow();
      const row = { campaign_id: c.id, provider: 'microsoft', kind: 'bounce', smtp_status: '5.7.515', n: 1 };
      await store.db.insertInto('campaign_provider_counts').values(row).execute();
      await expect(store.db.insertInto('campaign_provider_counts').values(row).execute()).rejects.toThrow();
      const { Migrator } = await import('kysely');
      const { migrationProvider } = await import('../../src/store/migrate.js');
      const down = await new Migrator({ db: store.db, provider: migrationProvider(dialect) }).migrateDown();
      expect(down.error).toBeUndefined();
      expect(down.results?.[0]).toMatchObject({ migrationName: '0011-provider-engagement', direction: 'Down', status: 'Success' });
      expect(await migrateToLatest(store.db, dialect, { upTo: '0011-provider-engagement' })).toEqual(['0011-provider-engagement']);
    } finally {
      await store.destroy();
    }
  });
});

/** SQLite's ledger counter triggers (name and text), by name. */
async function counterTriggers(db: Kysely<Database>): Promise<Array<{ name: string; sql: string }>> {
  return (await sql<{ name: string; sql: string }>`select name, sql from sqlite_master where type = 'trigger' and name like 'deliveries_counts_%' order by name`.execute(db)).rows;
}

describe('migration 0023 (SQLite ledger counter triggers re-created)', () => {
  it('replaces triggers created with an older provider expression by the current ones, and the counters keep counting', async () => {
    const database = await createTestDatabase('sqlite');
    const store = await openStore(database.url, { migrate: false });
    try {
      await migrateToLatest(store.db, 'sqlite', { upTo: '0022-campaign-page-indexes' });
      const triggerText = () => counterTriggers(store.db);
      const current = await triggerText();
      expect(current.map((t) => t.name)).toEqual(['deliveries_counts_delete', 'deliveries_counts_insert', 'deliveries_counts_update']);
      // A database from before: the update trigger as an older release wrote it (another expression text).
      await sql`drop trigger deliveries_counts_update`.execute(store.db);
      await sql.raw(current[2]!.sql.replace(/'other' end/, `'other' end /* older text */`)).execute(store.db);
      expect((await triggerText())[2]!.sql).toContain('older text');
      expect(await migrateToLatest(store.db, 'sqlite', { upTo: '0023-sqlite-counter-triggers' })).toEqual(['0023-sqlite-counter-triggers']);
      expect(await triggerText()).toEqual(current);
      // Still counting: a ledger row moved between statuses moves its count.
      const campaignId = await seedCampaign(store.db, await seedList(store.db, 'l'));
      const subscriberId = await seedSubscriber(store.db, 'x@gmail.com');
      await store.db.insertInto('deliveries').values({ campaign_id: campaignId, subscriber_id: subscriberId, email: 'x@gmail.com', status: 'queued', created_at: 1, updated_at: 1 }).execute();
      await store.db.updateTable('deliveries').set({ status: 'sent' }).where('campaign_id', '=', campaignId).execute();
      const counts = await store.db.selectFrom('campaign_delivery_counts').select(['status', 'provider', 'n']).where('campaign_id', '=', campaignId).where('n', '<>', 0).execute();
      expect(counts.map((r) => [r.status, r.provider, Number(r.n)])).toEqual([['sent', 'gmail', 1]]);
    } finally {
      await store.destroy();
      await database.remove();
    }
  });
});

describe('migration 0025 (SQLite provider by table lookup in the ledger counter triggers)', () => {
  it('fills mailbox_provider_domains, re-creates the counter triggers with the lookup, and the counters go on counting per provider', async () => {
    const database = await createTestDatabase('sqlite');
    const store = await openStore(database.url, { migrate: false });
    try {
      await migrateToLatest(store.db, 'sqlite', { upTo: '0023-sqlite-counter-triggers' });
      const campaignId = await seedCampaign(store.db, await seedList(store.db, 'l'));
      // Rows counted by the triggers as they were before (the CASE form).
      for (const email of ['x@gmail.com', 'y@hotmail.co.uk', 'z@example.com']) {
        const subscriberId = await seedSubscriber(store.db, email);
        await store.db.insertInto('deliveries').values({ campaign_id: campaignId, subscriber_id: subscriberId, email, status: 'queued', created_at: 1, updated_at: 1 }).execute();
      }

      // (toContain: a migration numbered between 0023 and 0025 may run here too.)
      expect(await migrateToLatest(store.db, 'sqlite')).toContain('0025-sqlite-provider-lookup');
      const triggers = await counterTriggers(store.db);
      expect(triggers.map((t) => t.name)).toEqual(['deliveries_counts_delete', 'deliveries_counts_insert', 'deliveries_counts_update']);
      for (const t of triggers) {
        expect(t.sql).toContain('mailbox_provider_domains');
        expect(t.sql).not.toContain("when 'gmail.com'");
      }
      const domains = await sql<{ domain: string; provider: string }>`select domain, provider from mailbox_provider_domains`.execute(store.db);
      expect(domains.rows.length).toBe(new Set(Object.values(PROVIDER_DOMAINS).flat()).size);

      // Rows counted before move out of their counters and into the new ones under the same provider.
      await store.db.updateTable('deliveries').set({ status: 'sent' }).where('campaign_id', '=', campaignId).execute();
      const counts = await store.db.selectFrom('campaign_delivery_counts').select(['status', 'provider', 'n']).where('campaign_id', '=', campaignId).where('n', '<>', 0).orderBy('provider').execute();
      expect(counts.map((r) => [r.status, r.provider, Number(r.n)])).toEqual([['sent', 'gmail', 1], ['sent', 'microsoft', 1], ['sent', 'other', 1]]);
    } finally {
      await store.destroy();
      await database.remove();
    }
  });
});
