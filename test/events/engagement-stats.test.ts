/**
 * Human vs machine engagement end to end on a real store (both backends): signed Open and
 * Click notifications through the webhook are classified as they are stored, and the stats
 * (the orchestrator's, as the CLI and API print them) count each message in exactly one of
 * human / machine / unknown — never both — beside the raw `opened`/`clicked` counters.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSnsSigningIdentity, signedNotification, type SnsSigningIdentity } from '../../src/simulator/sns-signer.js';
import { CampaignOrchestrator } from '../../src/campaigns/campaign-orchestrator.js';
import { trapLinkFor } from '../../src/events/engagement-class.js';
import { openRepositories } from '../../src/store/repositories.js';
import { BACKENDS } from '../support/store.js';
import { TEST_TOPIC } from './fixtures.js';
import { createHarness, type Harness } from './harness.js';
import { seedCampaign, seedDeliveries, seedList } from '../support/seed.js';

let identity: SnsSigningIdentity;
beforeAll(async () => {
  identity = await createSnsSigningIdentity();
});

const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const ARTICLE = 'https://blog.example.org/posts/release';
const OTHER = 'https://github.com/example/project/pull/1';
const THIRD = 'https://docs.example.org/setup';

const unavailable = new Proxy({}, { get: () => { throw new Error('not used by stats'); } }) as never;

describe.each(BACKENDS)('human and machine engagement in stats (%s)', (dialect) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('counts each message in one class only, per link too, and a burst turns earlier clicks into machine ones', async () => {
    h = await createHarness(dialect, identity, { PUBLIC_URL: 'https://news.example.org' });
    const db = h.store.db;
    const list = await seedList(db, 'default');
    const c = await seedCampaign(db, list, 'sent');
    const ids = await seedDeliveries(db, c, 10, { emailPrefix: 'r', sesPrefix: 'm-', status: 'delivered' });
    const sentAt = Date.now() - 2 * 3600_000;
    await db.updateTable('deliveries').set({ sent_at: sentAt, outcome_at: sentAt + 2000 }).where('campaign_id', '=', c).execute();
    const base = Date.now() - 3600_000;
    const mail = (i: number) => ({
      messageId: `m-${i}`,
      destination: [`r${i}@example.com`],
      timestamp: new Date(sentAt).toISOString(),
      tags: { campaign: [String(c)], subscriber: [String(ids[i])] },
    });
    const post = async (message: object) => {
      const res = await h.post(signedNotification(message, identity, { topicArn: TEST_TOPIC }));
      expect(res.status).toBe(200);
    };
    const open = (i: number, userAgent: string | undefined, ipAddress: string, ms = 0) =>
      post({ eventType: 'Open', mail: mail(i), open: { timestamp: new Date(base + ms).toISOString(), ipAddress, userAgent } });
    const click = (i: number, link: string, userAgent: string, ms = 0) =>
      post({ eventType: 'Click', mail: mail(i), click: { timestamp: new Date(base + ms).toISOString(), ipAddress: '198.51.100.4', userAgent, link, linkTags: {} } });

    await open(0, IPHONE, '203.0.113.10'); // human open
    await click(0, ARTICLE, CHROME, 60_000); // human click
    await open(1, 'Mozilla/5.0', '17.58.1.1'); // Apple MPP only
    await open(2, 'Mozilla/5.0', '17.58.1.2'); // MPP fetch, and then …
    await click(2, ARTICLE, IPHONE, 300_000); // … the reader clicks: human
    await click(3, ARTICLE, CHROME, 0); // a scanner: three links within 0.4 s
    await click(3, OTHER, CHROME, 200);
    await click(3, THIRD, CHROME, 400);
    await click(4, trapLinkFor('https://news.example.org'), CHROME, 0); // the hidden trap link
    await click(4, ARTICLE, CHROME, 300);
    await open(5, undefined, '203.0.113.11'); // no user agent: cannot tell
    await open(6, 'Mozilla/5.0', '17.58.1.3'); // MPP and an unknown open: machine wins over unknown
    await open(6, undefined, '203.0.113.12', 1000);

    const repos = openRepositories(h.store);
    const orchestrator = new CampaignOrchestrator({ campaigns: repos.campaigns, ledger: repos.ledger, audience: repos.audience, queues: unavailable, health: repos.campaignHealth });
    const stats = await orchestrator.stats(c);
    expect(stats).toMatchObject({
      opened_human: 2,
      opened_machine: 4,
      opened_unknown: 1,
      clicked_human: 2,
      clicked_machine: 2,
      clicked_unknown: 0,
      click_to_open_human: 1,
      // Raw counters keep their meaning: any open / any click SES reported, whoever it was.
      opened: 5,
      clicked: 4,
    });
    // Never mixed: every message with any open or click is in exactly one class.
    const engaged = await db.selectFrom('events').select('subscriber_id').distinct().where('campaign_id', '=', c).where('type', 'in', ['open', 'click']).execute();
    expect(stats.opened_human + stats.opened_machine + stats.opened_unknown).toBe(engaged.length);
    expect(stats.clicked_human + stats.clicked_machine + stats.clicked_unknown).toBe(4);

    // The burst made the scanner's first two clicks machine as well.
    const scanner = await db.selectFrom('events').select(['engagement', 'engagement_reason']).where('ses_message_id', '=', 'm-3').orderBy('occurred_at').execute();
    expect(scanner.map((e) => e.engagement)).toEqual(['machine', 'machine', 'machine']);

    // Per link: human clicks apart from machine ones.
    const links = await repos.campaignHealth.linkEngagement(c);
    expect(links.find((l) => l.url === ARTICLE)).toEqual({ url: ARTICLE, human: 2, human_unique: 2, machine: 2, unknown: 0 });
    expect(links.find((l) => l.url === OTHER)).toEqual({ url: OTHER, human: 0, human_unique: 0, machine: 1, unknown: 0 });
    expect(links.find((l) => l.url === trapLinkFor('https://news.example.org'))).toMatchObject({ human: 0, machine: 1 });
  });
});
