/**
 * The orchestrator records each change in the campaign's activity log in the same
 * transaction as the change (both backends, migration 0008): an entry that cannot be
 * written takes the change back with it, and of two racing callers only the winner is
 * recorded. Real store, real BullMQ queues (unique prefix, no worker).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { CampaignOrchestrator, type ActivityUnits } from '../../src/campaigns/campaign-orchestrator.js';
import { CLI_ACTOR, SYSTEM_ACTOR } from '../../src/campaigns/campaign-activity.js';
import { createSendQueues, type SendQueues } from '../../src/queue/send-queues.js';
import { openRepositories, type StoreRepositories } from '../../src/store/repositories.js';
import { BACKENDS, createTestStore, type TestStore } from '../support/store.js';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { seedAudience } from '../support/pipeline.js';

const EDITOR = { name: 'ci', role: 'editor' as const };

describe.each(BACKENDS)('campaign activity on %s', (dialect) => {
  let store: TestStore;
  let redis: Redis;
  let queues: SendQueues;
  let prefix: string;
  let repos: StoreRepositories;
  let listId: number;

  function orchestrator(units: ActivityUnits = repos): CampaignOrchestrator {
    return new CampaignOrchestrator({ campaigns: repos.campaigns, ledger: repos.ledger, audience: repos.audience, queues, units });
  }

  /**
   * Units whose `latestOfIssue` answers only once `n` lookups have been made, or `ms` after
   * the first: concurrent submissions all read before any of them writes, unless something
   * makes them take turns.
   */
  function lookupsHeldTogether(n: number, ms: number): ActivityUnits {
    let looked = 0;
    let release!: () => void;
    const together = new Promise<void>((resolve) => (release = resolve));
    return {
      campaignActivity: repos.campaignActivity,
      transaction: (work) =>
        repos.transaction((r) => {
          const campaigns = Object.create(r.campaigns) as typeof r.campaigns;
          campaigns.latestOfIssue = async (listId, slug) => {
            const found = await r.campaigns.latestOfIssue(listId, slug);
            if (++looked === 1) setTimeout(release, ms);
            if (looked === n) release();
            await together;
            return found;
          };
          return work({ campaigns, campaignActivity: r.campaignActivity });
        }),
    };
  }

  const issue = { subject: 'Week 1', issueTitle: 'Week 1', issueSlug: 'week-1', issueDate: null, sourcePath: null, sourceMarkdown: '# Week 1', compiledJson: '{}' };

  beforeEach(async () => {
    store = await createTestStore(dialect);
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    prefix = uniquePrefix('activity');
    queues = createSendQueues(redis, prefix);
    repos = openRepositories(store);
    listId = await seedAudience(store.db, 3);
  });

  afterEach(async () => {
    await queues.close();
    redis.disconnect();
    await deletePrefix(prefix);
    await store.drop();
  });

  it('an entry that cannot be written takes its change back', async () => {
    const c = await orchestrator().create({ ...issue, listId, scheduledAt: null, status: 'draft' }, EDITOR);
    const failing: ActivityUnits = {
      campaignActivity: repos.campaignActivity,
      transaction: (work) =>
        repos.transaction((r) =>
          work({ campaigns: r.campaigns, campaignActivity: { list: (id) => r.campaignActivity.list(id), record: async () => { throw new Error('activity log unavailable'); } } }),
        ),
    };
    await expect(orchestrator(failing).schedule(c.id, Date.now() + 3_600_000, EDITOR)).rejects.toThrow('activity log unavailable');
    expect((await repos.campaigns.get(c.id))!.status).toBe('draft');
    await expect(orchestrator(failing).cancel(c.id, EDITOR)).rejects.toThrow('activity log unavailable');
    expect((await repos.campaigns.get(c.id))!.status).toBe('draft');

    expect(await orchestrator().schedule(c.id, Date.now() + 3_600_000, EDITOR)).toBe(true);
    expect((await repos.campaigns.get(c.id))!.status).toBe('scheduled');
    expect((await orchestrator().activity(c.id)).map((e) => e.action)).toEqual(['created', 'scheduled']);
  });

  it('of two racing pauses only the winner is recorded, with its actor', async () => {
    const c = await orchestrator().create({ ...issue, listId, scheduledAt: null, status: 'draft' }, CLI_ACTOR);
    expect(await orchestrator().start(c.id, CLI_ACTOR)).toBe(true);
    const [byEditor, byQuota] = await Promise.all([
      orchestrator().pause(c.id, { code: 'editor' }, EDITOR),
      orchestrator().pause(c.id, { code: 'quota', note: 'daily quota reached' }, SYSTEM_ACTOR),
    ]);
    expect([byEditor, byQuota].filter(Boolean)).toHaveLength(1);
    const log = await orchestrator().activity(c.id);
    expect(log.map((e) => [e.action, e.actor.name])).toEqual([
      ['created', 'cli'],
      ['started', 'cli'],
      ['paused', byEditor ? 'ci' : 'system'],
    ]);
    // Start no longer counts the audience (issue 16: trigger → first send); the fan-out fills the total in.
    expect(log[1]!.detail).toBe('audience being counted');
  });

  it('submitting the same issue twice makes one campaign; racing submissions too (the CI path, issue 13)', async () => {
    const first = await orchestrator().submit({ ...issue, listId }, EDITOR);
    const again = await orchestrator().submit({ ...issue, listId }, EDITOR);
    expect([first.outcome, again.outcome]).toEqual(['create', 'existing']);
    expect(again.campaign.id).toBe(first.campaign.id);
    // Two CI jobs submitting one new issue at the same moment: one creates, the others find it.
    // Each submission's lookup is held until all four have looked (or 500 ms passed, where a
    // lock makes them wait for each other): without one they would all find nothing.
    const racing = { ...issue, issueSlug: 'week-2', listId };
    const gated = lookupsHeldTogether(4, 500);
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => orchestrator(gated).submit(racing, EDITOR)));
    expect(new Set(outcomes.map((o) => o.campaign.id)).size).toBe(1);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['create', 'existing', 'existing', 'existing']);
    const made = await store.db.selectFrom('campaigns').select(['id', 'issue_slug']).where('list_id', '=', listId).orderBy('id').execute();
    expect(made.map((c) => c.issue_slug)).toEqual(['week-1', 'week-2']);
    expect((await orchestrator().activity(outcomes[0]!.campaign.id)).map((e) => e.action)).toEqual(['created']);
  });

  it('a campaign created as scheduled (the CLI `send --at`) records both', async () => {
    const at = Date.now() + 3_600_000;
    const c = await orchestrator().create({ ...issue, listId, scheduledAt: at, status: 'scheduled', sourcePath: '/issues/week-1.md' }, CLI_ACTOR);
    const log = await orchestrator().activity(c.id);
    expect(log.map((e) => [e.action, e.detail])).toEqual([
      ['created', 'from /issues/week-1.md'],
      ['scheduled', `for ${new Date(at).toISOString()}`],
    ]);
  });
});
