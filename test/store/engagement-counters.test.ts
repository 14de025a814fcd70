/**
 * The per-campaign engagement counters (migration 0020) equal the per-recipient grouping of the
 * campaign's open and click events that the stats used to run, on both backends: after every
 * open and click of each class written through the real event writer (duplicates, SNS
 * redeliveries, several links, a link burst that reclassifies a human click as machine, an
 * event whose ledger row is missing), for the derived stats too; across pruning (the stats of
 * a pruned campaign read the same as before); and for events stored before the migration
 * (the backfill), which goes down and up again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Migrator, sql, type Kysely } from 'kysely';
import { loadConfig } from '../../src/config.js';
import { eventRules } from '../../src/events/event-effects.js';
import type { SesEvent } from '../../src/events/ses-notification.js';
import { EventWriter } from '../../src/store/event-writer.js';
import { CampaignHealthRepository } from '../../src/store/campaign-health-repository.js';
import { LedgerRetentionRepository } from '../../src/store/ledger-retention-repository.js';
import { deriveEngagement, type MessageEngagement } from '../../src/campaigns/campaign-health.js';
import { migrateToLatest, migrationProvider } from '../../src/store/migrate.js';
import { openStore } from '../../src/store/db.js';
import type { Database } from '../../src/store/schema.js';
import { BACKENDS, createTestDatabase, createTestStore, type TestStore } from '../support/store.js';
import { seedCampaign, seedDeliveries, seedList, seedSubscriber } from '../support/seed.js';

const HUMAN = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36';
const UNKNOWN_AGENT = 'SomeReader/1.0';
const APPLE_IP = '17.58.0.1';
const T0 = 1_700_000_000_000;

const key = (m: MessageEngagement) => JSON.stringify([m.humanOpen, m.machineOpen, m.anyOpen, m.humanClick, m.machineClick, m.anyClick]);
const sorted = (ms: MessageEngagement[]) => [...ms].filter((m) => m.n > 0).sort((a, b) => key(a).localeCompare(key(b)));

/** The stats' old computation: the campaign's open and click events grouped per recipient, then per set of flags. */
async function groupedFromEvents(db: Kysely<Database>, campaignId: number): Promise<MessageEngagement[]> {
  const flag = (type: string, engagement?: string) =>
    sql.raw(`max(case when type = '${type}'${engagement ? ` and engagement = '${engagement}'` : ''} then 1 else 0 end)`);
  const r = await sql<{ ho: number; mo: number; ao: number; hc: number; mc: number; ac: number; n: number }>`
    select ho, mo, ao, hc, mc, ac, count(*) as n from (
      select subscriber_id, ${flag('open', 'human')} as ho, ${flag('open', 'machine')} as mo, ${flag('open')} as ao,
        ${flag('click', 'human')} as hc, ${flag('click', 'machine')} as mc, ${flag('click')} as ac
      from events where campaign_id = ${campaignId} and type in ('open', 'click') and subscriber_id is not null group by subscriber_id) m
    group by ho, mo, ao, hc, mc, ac`.execute(db);
  return sorted(
    r.rows.map((x) => ({
      n: Number(x.n),
      humanOpen: Number(x.ho) === 1,
      machineOpen: Number(x.mo) === 1,
      anyOpen: Number(x.ao) === 1,
      humanClick: Number(x.hc) === 1,
      machineClick: Number(x.mc) === 1,
      anyClick: Number(x.ac) === 1,
    })),
  );
}

async function expectSame(db: Kysely<Database>, campaignId: number, step: string): Promise<void> {
  const counted = sorted(await new CampaignHealthRepository(db).messageEngagement(campaignId));
  const grouped = await groupedFromEvents(db, campaignId);
  expect(counted, step).toEqual(grouped);
  expect(deriveEngagement(counted), `${step} (stats)`).toEqual(deriveEngagement(grouped));
}

describe.each(BACKENDS)('engagement counters on %s', (dialect) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.drop();
    store = undefined;
  });

  it('equal the grouping of the events after every open and click, duplicates, redeliveries, a burst and a prune', async () => {
    store = await createTestStore(dialect);
    const db = store.db;
    const list = await seedList(db, 'default');
    const c = await seedCampaign(db, list, 'sent');
    const other = await seedCampaign(db, list, 'sent');
    const subs = await seedDeliveries(db, c, 8, { emailPrefix: 'r', sesPrefix: 'm', status: 'delivered' });
    const otherSubs = await seedDeliveries(db, other, 2, { emailPrefix: 'o', sesPrefix: 'om', status: 'delivered' });
    const noLedger = await seedSubscriber(db, 'tagged@example.com');
    const writer = new EventWriter(db, eventRules(loadConfig({})));
    let sns = 0;
    const write = async (i: number | 'tagged', e: Partial<SesEvent> & Pick<SesEvent, 'type' | 'occurredAt'>, snsId = `sns-${++sns}`, campaign = c) => {
      const tagged = i === 'tagged';
      const event: SesEvent = {
        subtype: null,
        bounceSubType: null,
        sesMessageId: tagged ? 'unknown-message' : campaign === c ? `m${i}` : `om${i}`,
        email: tagged ? 'tagged@example.com' : `${campaign === c ? 'r' : 'o'}${i}@example.com`,
        campaignId: campaign,
        subscriberId: tagged ? noLedger : (campaign === c ? subs : otherSubs)[i as number]!,
        detail: null,
        sentAt: T0,
        ...e,
      };
      const result = await writer.write({ snsMessageId: snsId, message: '{}', events: [event] }, e.occurredAt);
      await expectSame(db, c, `after ${snsId} (${i} ${e.type})`);
      return result;
    };
    const open = (agent: string | null, at: number, ip: string | null = null) => ({ type: 'open' as const, userAgent: agent, ipAddress: ip, occurredAt: T0 + at });
    const click = (link: string, agent: string | null, at: number) => ({ type: 'click' as const, detail: link, userAgent: agent, ipAddress: '203.0.113.9', occurredAt: T0 + at });

    await write(0, open(HUMAN, 60_000)); // human open
    await write(1, open('Mozilla/5.0', 60_000, APPLE_IP)); // Apple MPP: machine open
    await write(1, open(HUMAN, 120_000)); // then the person: human
    await write(2, open(UNKNOWN_AGENT, 60_000)); // unknown only
    await write(3, open(null, 60_000, APPLE_IP)); // machine open
    await write(3, click('https://example.com/a', UNKNOWN_AGENT, 600_000)); // and an unknown click
    await write(4, open(HUMAN, 60_000));
    await write(4, click('https://example.com/a', HUMAN, 600_000)); // human click
    await write(4, click('https://example.com/a', HUMAN, 700_000)); // again, another SNS message: the mark stays
    // SNS redelivers that one: nothing changes.
    expect((await write(4, click('https://example.com/a', HUMAN, 700_000), `sns-${sns}`)).applied).toBe(false);
    await write(5, click('https://example.com/a', HUMAN, 600_000)); // a human click on its own (counts as a human open too)
    // Three links within a second: a link burst; the human click of 5 becomes machine.
    await write(5, click('https://example.com/b', HUMAN, 600_400));
    const burst = await write(5, click('https://example.com/c', HUMAN, 600_800));
    expect(burst.applied).toBe(true);
    const five = await db.selectFrom('events').select('engagement').where('ses_message_id', '=', 'm5').execute();
    expect(five.map((e) => e.engagement)).toEqual(['machine', 'machine', 'machine']);
    await write(5, click('https://example.com/a', HUMAN, 900_000)); // a later human click: human again
    await write(6, click('https://example.com/b', null, 600_000)); // no agent: machine click
    await write(6, open(UNKNOWN_AGENT, 650_000));
    await write('tagged', open(HUMAN, 60_000)); // no ledger row: counted by campaign and subscriber as the grouping does
    await write(0, open(HUMAN, 60_000), undefined, other); // another campaign: not counted here
    await write(1, click('https://example.com/a', HUMAN, 600_000), undefined, other);
    await expectSame(db, other, 'the other campaign');

    const stats = deriveEngagement(await new CampaignHealthRepository(db).messageEngagement(c));
    // Human: 0, 1, 4, 5 (human click), tagged; machine: 3 (machine open, unknown click), 6; unknown: 2.
    expect(stats).toMatchObject({ opened_human: 5, opened_machine: 2, opened_unknown: 1, clicked_human: 2, clicked_machine: 1, clicked_unknown: 1, click_to_open_human: 0.4 });

    // Prune: the persisted figures are read from then on, equal to what was read before.
    const health = new CampaignHealthRepository(db);
    const before = { messages: sorted(await health.messageEngagement(c)), providers: await health.providerCounts(c), links: await health.linkEngagement(c) };
    const retention = new LedgerRetentionRepository(db);
    await retention.persistTotals(c, { uncertainBefore: T0, startedAt: T0, seriesWidth: 60_000, eventsCutoff: T0 + 3_600_000 }, T0 + 7_200_000);
    while ((await retention.deleteLedgerBatch(c, 3)) > 0);
    while ((await retention.deleteEngagementMarksBatch(c, 3)) > 0);
    while ((await retention.deleteEventsBatch(c, T0 + 3_600_000, 3)) > 0);
    await retention.markPruned(c, T0 + 7_200_000);
    expect(Number((await db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', c).where('type', 'in', ['open', 'click']).executeTakeFirstOrThrow()).n)).toBe(0);
    expect(await db.selectFrom('campaign_engagement_marks').select('subscriber_id').where('campaign_id', '=', c).execute()).toEqual([]);
    expect({ messages: sorted(await health.messageEngagement(c)), providers: await health.providerCounts(c), links: await health.linkEngagement(c) }).toEqual(before);
    await expectSame(db, other, 'the other campaign after the prune');
  });

  it('stay equal to the grouping with several writers (processes) applying opens and clicks of the same recipients at once', async () => {
    store = await createTestStore(dialect);
    const db = store.db;
    const list = await seedList(db, 'default');
    const c = await seedCampaign(db, list, 'sent');
    const subs = await seedDeliveries(db, c, 12, { emailPrefix: 'w', sesPrefix: 'w', status: 'delivered' });
    const writers = [0, 1, 2].map(() => new EventWriter(db, eventRules(loadConfig({}))));
    const agents = [HUMAN, UNKNOWN_AGENT, null];
    const writes: Array<Promise<unknown>> = [];
    for (let k = 0; k < 180; k++) {
      const w = k % 3;
      // Each writer walks the recipients in its own order.
      const i = w === 0 ? k % 12 : w === 1 ? 11 - (k % 12) : (k * 5) % 12;
      const type = k % 4 === 0 ? 'click' : 'open';
      const event: SesEvent = {
        type, subtype: null, bounceSubType: null, sesMessageId: `w${i}`, email: `w${i}@example.com`, campaignId: c, subscriberId: subs[i]!,
        detail: type === 'click' ? `https://example.com/${k % 2}` : null, userAgent: agents[(k >> 2) % 3], ipAddress: k % 7 === 0 ? APPLE_IP : '203.0.113.9',
        sentAt: T0, occurredAt: T0 + 60_000 + k * 5000,
      };
      writes.push(writers[w]!.write({ snsMessageId: `c-${k}`, message: '{}', events: [event] }, event.occurredAt));
      // And a redelivery of every fifth, by another writer.
      if (k % 5 === 0) writes.push(writers[(w + 1) % 3]!.write({ snsMessageId: `c-${k}`, message: '{}', events: [event] }, event.occurredAt));
    }
    await Promise.all(writes);
    expect(Number((await db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)).toBe(180);
    await expectSame(db, c, 'after concurrent writers');
    expect(deriveEngagement(await new CampaignHealthRepository(db).messageEngagement(c)).opened_human).toBeGreaterThan(0);
  });

  it('are backfilled for events stored before the migration, and the migration goes down and up again', async () => {
    const database = await createTestDatabase(dialect);
    const s = await openStore(database.url, { migrate: false });
    try {
      await migrateToLatest(s.db, dialect, { upTo: '0019-progress-counters' });
      const list = await seedList(s.db, 'l');
      const c = await seedCampaign(s.db, list, 'sent');
      const c2 = await seedCampaign(s.db, list, 'sent');
      const subs = await seedDeliveries(s.db, c, 7, { emailPrefix: 'b', sesPrefix: 'bm', status: 'delivered' });
      let n = 0;
      const ev = (campaign: number, i: number, type: string, engagement: string | null, detail: string | null = null) => ({
        sns_message_id: `sns-${++n}`, type, subtype: null, ses_message_id: `bm${i}`, email: `b${i}@example.com`, campaign_id: campaign,
        subscriber_id: subs[i]!, detail, occurred_at: T0 + n, payload: '{}', created_at: T0 + n, engagement,
      });
      await s.db
        .insertInto('events')
        .values([
          ev(c, 0, 'open', 'human'), ev(c, 0, 'open', 'human'), ev(c, 1, 'open', 'machine'), ev(c, 1, 'click', 'human', 'https://x/a'),
          ev(c, 2, 'open', null), ev(c, 3, 'click', 'unknown', 'https://x/a'), ev(c, 3, 'click', 'machine', 'https://x/b'),
          ev(c, 4, 'delivery', null), ev(c, 5, 'open', 'machine'), ev(c, 5, 'open', 'unknown'), ev(c2, 6, 'open', 'human'),
        ])
        .execute();
      expect(await migrateToLatest(s.db, dialect, { upTo: '0020-engagement-marks' })).toEqual(['0020-engagement-marks']);
      await expectSame(s.db, c, 'backfill');
      await expectSame(s.db, c2, 'backfill, second campaign');
      expect(deriveEngagement(await new CampaignHealthRepository(s.db).messageEngagement(c))).toMatchObject({ opened_human: 2, opened_machine: 2, opened_unknown: 1, clicked_human: 1, clicked_machine: 1 });
      const down = await new Migrator({ db: s.db, provider: migrationProvider(dialect) }).migrateTo('0019-progress-counters');
      expect(down.error).toBeUndefined();
      expect(await migrateToLatest(s.db, dialect, { upTo: '0020-engagement-marks' })).toEqual(['0020-engagement-marks']);
      await expectSame(s.db, c, 'up again');
    } finally {
      await s.destroy();
      await database.remove();
    }
  });
});
