/**
 * The campaign orchestrator over a real store (both backends) and real BullMQ queues on
 * Redis (unique prefix, no worker): every status change, the pause codes, the reconciler's
 * quota recheck, and that a second caller racing the first loses.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { CampaignOrchestrator } from '../../src/campaigns/campaign-orchestrator.js';
import type { MailTransport, SendQuota } from '../../src/campaigns/ports.js';
import { AudienceRepository } from '../../src/store/audience-repository.js';
import { StateError } from '../../src/errors.js';
import { createSendQueues, fanoutJobId, recipientsOf, type SendQueues } from '../../src/queue/send-queues.js';
import { CampaignsRepository } from '../../src/store/campaigns-repository.js';
import { DeliveryLedger } from '../../src/store/delivery-ledger.js';
import type { CampaignStatus } from '../../src/store/schema.js';
import { createReconciler } from '../../workers/reconciler.js';
import { createFanoutProcessor } from '../../workers/fanout-processor.js';
import type { Job } from 'bullmq';
import type { FanoutJobData } from '../../src/queue/send-queues.js';
import { BACKENDS, createTestStore, type TestStore } from '../support/store.js';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { seedAudience } from '../support/pipeline.js';

const HOUR = 3_600_000;

describe.each(BACKENDS)('campaign orchestrator on %s', (dialect) => {
  let store: TestStore;
  let redis: Redis;
  let queues: SendQueues;
  let prefix: string;
  let campaigns: CampaignsRepository;
  let listId: number;
  let clock: number;

  function orchestrator(repo: CampaignsRepository = campaigns): CampaignOrchestrator {
    return new CampaignOrchestrator({
      campaigns: repo,
      ledger: new DeliveryLedger(store.db),
      audience: new AudienceRepository(store.db),
      queues,
      now: () => clock,
    });
  }

  async function draft(): Promise<number> {
    const c = await orchestrator().create({
      listId, subject: 'Week 1', issueTitle: 'Week 1', issueSlug: 'week-1', issueDate: null, sourcePath: null,
      sourceMarkdown: '# Week 1', compiledJson: '{}', scheduledAt: null, status: 'draft',
    });
    return c.id;
  }

  async function sending(): Promise<number> {
    const id = await draft();
    expect(await orchestrator().start(id)).toBe(true);
    return id;
  }

  /** A repository whose `get` answers only once `callers` have read: all of them act on the same view. */
  function readTogether(callers: number): CampaignsRepository {
    const repo = new CampaignsRepository(store.db);
    const get = repo.get.bind(repo);
    let reads = 0;
    let release!: () => void;
    const allRead = new Promise<void>((resolve) => (release = resolve));
    repo.get = async (id) => {
      const c = await get(id);
      if (++reads === callers) release();
      await allRead;
      return c;
    };
    return repo;
  }

  async function row(id: number) {
    const c = await campaigns.get(id);
    if (!c) throw new Error(`campaign ${id} vanished`);
    return c;
  }

  beforeEach(async () => {
    store = await createTestStore(dialect);
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    prefix = uniquePrefix('orchestrator');
    queues = createSendQueues(redis, prefix);
    campaigns = new CampaignsRepository(store.db);
    listId = await seedAudience(store.db, 5);
    clock = Date.now();
  });

  /** The subscribers the waiting send jobs carry (a job holds a batch of them). */
  async function waitingRecipients(): Promise<number[]> {
    return (await queues.send.getJobs(['wait'])).flatMap((j) => recipientsOf(j.data));
  }

  afterEach(async () => {
    await queues.close();
    redis.disconnect();
    await deletePrefix(prefix);
    await store.drop();
  });

  describe('start', () => {
    /** The real audience queries, with every call recorded in order (and a hook run inside the count). */
    function recordingAudience(calls: string[], duringCount: () => Promise<void> = async () => undefined): AudienceRepository {
      const real = new AudienceRepository(store.db);
      const audience = Object.create(real) as AudienceRepository;
      audience.audienceCount = async (q) => {
        calls.push('count');
        await duringCount();
        return real.audienceCount(q);
      };
      audience.audiencePage = async (q) => {
        const page = await real.audiencePage(q);
        calls.push(`page of ${page.length}`);
        return page;
      };
      return audience;
    }

    it('enqueues the fan-out without counting the audience; the fan-out counts it once its first sends are queued, and fills total in', async () => {
      const calls: string[] = [];
      const seen: { waitingSends: number; total: number; queued: number; eta: string | null }[] = [];
      const o = new CampaignOrchestrator({ campaigns, ledger: new DeliveryLedger(store.db), audience: recordingAudience(calls), queues, now: () => clock });
      const id = await draft();
      expect(await o.start(id)).toBe(true);
      // The start did not count: the fan-out job is waiting and the size is not known yet.
      expect(calls).toEqual([]);
      expect(await queues.fanout.getJob(fanoutJobId(id))).toBeDefined();
      expect(await row(id)).toMatchObject({ status: 'sending', total_known: 0, total: 0 });
      const before = await o.stats(id);
      expect(before).toMatchObject({ total: 0, queued: 0, eta: null });

      const audience = recordingAudience(calls, async () => {
        // What is true while the count runs: the first page's sends are already waiting, and
        // stats read the rows fanned out so far as the total (a lower bound), with no ETA.
        const stats = await o.stats(id);
        seen.push({ waitingSends: (await waitingRecipients()).length, total: stats.total, queued: stats.queued, eta: stats.eta });
      });
      const fanout = createFanoutProcessor({ campaigns, ledger: new DeliveryLedger(store.db), audience, queues }, { firstPageSize: 2, pageSize: 2 });
      const job = { data: { campaignId: id }, updateData: async () => undefined } as unknown as Job<FanoutJobData>;
      expect(await fanout(job)).toBe('done');
      // One count, after the first page, and never again once known.
      expect(calls).toEqual(['page of 2', 'count', 'page of 2', 'page of 1']);
      expect(seen).toEqual([{ waitingSends: 2, total: 2, queued: 2, eta: null }]);
      expect(await row(id)).toMatchObject({ total_known: 1, total: 5, fanout_done: 1 });
      const after = await o.stats(id);
      expect(after).toMatchObject({ total: 5, queued: 5 });
      expect(await waitingRecipients()).toHaveLength(5);
    });

    it('a replayed first page (a crash before its cursor moved) counts again but fills total in once, with no second row or send', async () => {
      const id = await sending();
      const ledger = new DeliveryLedger(store.db);
      const repo = new CampaignsRepository(store.db);
      let crash = true;
      const advance = repo.advanceFanout.bind(repo);
      repo.advanceFanout = async (...args) => {
        if (crash) {
          crash = false;
          throw new Error('worker died before the cursor moved');
        }
        return advance(...args);
      };
      const fills: number[] = [];
      const fill = repo.fillTotal.bind(repo);
      repo.fillTotal = async (cid, total, now) => {
        const won = await fill(cid, total, now);
        if (won) fills.push(total);
        return won;
      };
      const fanout = createFanoutProcessor({ campaigns: repo, ledger, audience: new AudienceRepository(store.db), queues }, { firstPageSize: 2, pageSize: 2 });
      const job = { data: { campaignId: id }, updateData: async () => undefined } as unknown as Job<FanoutJobData>;
      await expect(fanout(job)).rejects.toThrow('worker died');
      expect(await row(id)).toMatchObject({ total_known: 1, total: 5, fanout_cursor: 0 });
      expect(await fanout(job)).toBe('done');
      expect(fills).toEqual([5]);
      const counts = await ledger.counts(id, 0);
      expect(counts.rows).toBe(5);
      expect(counts.byStatus.queued).toBe(5);
      // The replayed page formed the same batch, with the same job id: one job per recipient's batch, each recipient once.
      const waiting = await waitingRecipients();
      expect(waiting).toHaveLength(5);
      expect(new Set(waiting).size).toBe(5);
    });

    it('a canary start counts at once (the wave size needs it)', async () => {
      const calls: string[] = [];
      const o = new CampaignOrchestrator({ campaigns, ledger: new DeliveryLedger(store.db), audience: recordingAudience(calls), queues, now: () => clock });
      const id = await draft();
      expect(await o.start(id, undefined, { canaryPercent: 40 })).toBe(true);
      expect(calls).toEqual(['count']);
      expect(await row(id)).toMatchObject({ total_known: 1, total: 5, canary_size: 2, canary_phase: 'selecting' });
    });

    it('a cancel before the fan-out counted still says how many will not get it', async () => {
      const id = await sending();
      expect((await row(id)).total_known).toBe(0);
      expect(await orchestrator().cancel(id)).toEqual({ cancelled: true, unsent: 5 });
    });
  });

  describe('schedule', () => {
    it('moves a draft to scheduled with the time, then moves the pending schedule', async () => {
      const o = orchestrator();
      const id = await draft();
      const first = clock + HOUR;
      expect(await o.schedule(id, new Date(first))).toBe(true);
      expect(await row(id)).toMatchObject({ status: 'scheduled', scheduled_at: first });

      // The sweep marks it missed once its time is long past; rescheduling clears the mark.
      clock = first + 2 * HOUR;
      expect(await o.fireDueSchedules(60_000)).toEqual({ fired: [], missed: [id] });
      expect((await o.stats(id)).pause_code).toBe('schedule-missed');

      const second = clock + HOUR;
      expect(await o.schedule(id, second)).toBe(true);
      expect(await row(id)).toMatchObject({ status: 'scheduled', scheduled_at: second, paused_reason: null });
      // Not due yet: the sweep leaves it alone; once due (within the grace) it fires.
      expect(await o.fireDueSchedules(60_000)).toEqual({ fired: [], missed: [] });
      clock = second + 1000;
      expect(await o.fireDueSchedules(60_000)).toEqual({ fired: [id], missed: [] });
      expect((await row(id)).status).toBe('sending');
    });

    it('refuses a sending campaign and leaves it as it was', async () => {
      const id = await sending();
      const before = await row(id);
      await expect(orchestrator().schedule(id, clock + HOUR)).rejects.toThrow(StateError);
      await expect(orchestrator().schedule(id, clock + HOUR)).rejects.toThrow(`campaign ${id} is sending; it cannot be scheduled`);
      expect(await row(id)).toMatchObject({ status: 'sending', scheduled_at: before.scheduled_at });
    });

    it('a sweep that saw a due schedule loses to an editor who moved it meanwhile', async () => {
      const id = await draft();
      const due = clock - 1000;
      expect(await orchestrator().schedule(id, due)).toBe(true);
      const later = clock + HOUR;
      // The sweep reads the due campaign; the editor moves the schedule before the sweep acts.
      const racing = new CampaignsRepository(store.db);
      const byStatus = racing.byStatus.bind(racing);
      racing.byStatus = async (statuses) => {
        const seen = await byStatus(statuses);
        if (statuses.includes('scheduled')) expect(await orchestrator().schedule(id, later)).toBe(true);
        return seen;
      };
      expect(await orchestrator(racing).fireDueSchedules(60_000)).toEqual({ fired: [], missed: [] });
      expect(await row(id)).toMatchObject({ status: 'scheduled', scheduled_at: later });
      expect(await queues.fanout.getJob(fanoutJobId(id))).toBeUndefined();
    });
  });

  describe('pause', () => {
    it('an editor pause is stored as the code and shown as derived text; resume clears it', async () => {
      const o = orchestrator();
      const id = await sending();
      expect(await o.pause(id, { code: 'editor' })).toBe(true);
      expect(await row(id)).toMatchObject({ status: 'paused', paused_reason: 'editor', paused_note: null });
      expect(await o.stats(id)).toMatchObject({ status: 'paused', pause_code: 'editor', paused_reason: 'paused by an editor' });
      // Already paused: a second pause changes nothing, whatever its reason.
      expect(await o.pause(id, { code: 'quota', note: 'later' })).toBe(false);
      expect((await row(id)).paused_reason).toBe('editor');
      expect(await o.resume(id)).toBe(true);
      expect(await row(id)).toMatchObject({ status: 'sending', paused_reason: null });
    });

    it('refuses to pause a campaign that is not sending', async () => {
      const id = await draft();
      expect(await orchestrator().pause(id, { code: 'editor' })).toBe(false);
      expect((await row(id)).status).toBe('draft');
    });

    it('an account pause pauses every sending campaign and nothing else', async () => {
      const o = orchestrator();
      const a = await sending();
      const b = await sending();
      const editorPaused = await sending();
      await o.pause(editorPaused, { code: 'editor' });
      const untouched = await draft();
      const paused = await o.pauseAll({ code: 'account-paused', note: 'SES review' });
      expect([...paused].sort((x, y) => x - y)).toEqual([a, b]);
      for (const id of [a, b]) {
        expect(await o.stats(id)).toMatchObject({ status: 'paused', pause_code: 'account-paused', paused_reason: 'SES paused sending for the account: SES review' });
      }
      expect((await row(editorPaused)).paused_reason).toBe('editor');
      expect((await row(untouched)).status).toBe('draft');
    });
  });

  describe('quota pause and the reconciler', () => {
    function reconcilerWith(quota: () => SendQuota | null, repo = campaigns, o = orchestrator()) {
      const transport: MailTransport = {
        sendRaw: () => Promise.reject(new Error('no sends in this test')),
        getSendQuota: async () => quota(),
        classify: () => ({ kind: 'permanent', maybeSent: false }),
      };
      return createReconciler(
        { campaigns: repo, ledger: new DeliveryLedger(store.db), orchestrator: o, queues, transport, redis, prefix, workerId: 'w1' },
        { uncertainAfterMs: HOUR, scheduleGraceMs: HOUR, quotaRecheckMs: 0 },
      );
    }

    it('resumes only campaigns paused for the quota, once the quota has room', async () => {
      const o = orchestrator();
      const quotaPaused = await sending();
      const editorPaused = await sending();
      const breakerPaused = await sending();
      expect(await o.pause(quotaPaused, { code: 'quota', note: 'Daily message quota exceeded' })).toBe(true);
      await o.pause(editorPaused, { code: 'editor' });
      await o.pause(breakerPaused, { code: 'breaker', note: 'bounce rate 9%' });
      expect(await o.stats(quotaPaused)).toMatchObject({ pause_code: 'quota', paused_reason: expect.stringContaining('Daily message quota exceeded') });

      let quota: SendQuota = { max24HourSend: 100, maxSendRate: 10, sentLast24Hours: 100 };
      const sweeper = reconcilerWith(() => quota);
      await sweeper.sweep(clock);
      expect((await row(quotaPaused)).status).toBe('paused');

      quota = { ...quota, sentLast24Hours: 40 };
      await sweeper.sweep(clock + 1);
      expect(await row(quotaPaused)).toMatchObject({ status: 'sending', paused_reason: null, paused_note: null });
      expect(await row(editorPaused)).toMatchObject({ status: 'paused', paused_reason: 'editor' });
      expect(await row(breakerPaused)).toMatchObject({ status: 'paused', paused_reason: 'breaker' });
    });

    it('does not resume a campaign an editor re-paused while the quota was being read', async () => {
      const o = orchestrator();
      const id = await sending();
      await o.pause(id, { code: 'quota' });
      // Right after the sweep has read the quota-paused campaigns, the editor resumes and
      // pauses again: the sweep's resume must not undo the editor's pause.
      const racing = new CampaignsRepository(store.db);
      const byStatus = racing.byStatus.bind(racing);
      let raced = false;
      racing.byStatus = async (statuses) => {
        const seen = await byStatus(statuses);
        if (statuses.includes('paused') && !raced) {
          raced = true;
          expect(await o.resume(id)).toBe(true);
          expect(await o.pause(id, { code: 'editor' })).toBe(true);
        }
        return seen;
      };
      const sweeper = reconcilerWith(() => ({ max24HourSend: 100, maxSendRate: 10, sentLast24Hours: 0 }), racing);
      await sweeper.sweep(clock);
      expect(raced).toBe(true);
      expect(await row(id)).toMatchObject({ status: 'paused', paused_reason: 'editor' });
    });
  });

  describe('drafts in the workspace: edit, unschedule, no send with preflight errors', () => {
    const content = (compiledJson: string | null) => ({
      subject: 'Week 1 (fixed)', issueTitle: 'Week 1', issueDate: null, sourcePath: null, sourceMarkdown: '# Week 1 fixed', compiledJson,
    });

    it('a draft saved with errors (no compiled issue) is refused schedule and start until an edit fixes it', async () => {
      const id = (await orchestrator().create({ ...content(null), listId, issueSlug: 'week-1', scheduledAt: null, status: 'draft' })).id;
      await expect(orchestrator().schedule(id, clock + HOUR)).rejects.toThrow(/preflight errors/);
      await expect(orchestrator().start(id)).rejects.toThrow(/preflight errors/);
      await expect(orchestrator().create({ ...content(null), listId, issueSlug: 'week-1b', scheduledAt: clock + HOUR, status: 'scheduled' })).rejects.toBeInstanceOf(StateError);
      const edited = await orchestrator().editIssue(id, content('{}'));
      expect(edited).toMatchObject({ status: 'draft', subject: 'Week 1 (fixed)', source_markdown: '# Week 1 fixed', compiled_json: '{}' });
      expect(await orchestrator().schedule(id, clock + HOUR)).toBe(true);
    });

    it('a scheduled one may be edited without errors, not with them; once sending, not at all', async () => {
      const id = await draft();
      await orchestrator().schedule(id, clock + HOUR);
      await expect(orchestrator().editIssue(id, content(null))).rejects.toThrow(/unschedule it first/);
      expect((await orchestrator().editIssue(id, content('{"v":2}'))).status).toBe('scheduled');
      const started = await sending();
      await expect(orchestrator().editIssue(started, content('{}'))).rejects.toBeInstanceOf(StateError);
    });

    it('unschedule takes a scheduled campaign back to draft (its time cleared); nothing else', async () => {
      const id = await draft();
      await expect(orchestrator().unschedule(id)).rejects.toBeInstanceOf(StateError);
      await orchestrator().schedule(id, clock + HOUR);
      expect(await orchestrator().unschedule(id)).toBe(true);
      expect(await row(id)).toMatchObject({ status: 'draft', scheduled_at: null });
      // Not fired by the sweep any more.
      clock += 2 * HOUR;
      expect(await orchestrator().fireDueSchedules(HOUR)).toEqual({ fired: [], missed: [] });
    });

    it('of an unschedule and the sweep firing the same schedule, exactly one takes effect', async () => {
      const id = await draft();
      await orchestrator().schedule(id, clock + 1000);
      clock += 2000;
      const [unscheduled, swept] = await Promise.all([orchestrator().unschedule(id).catch(() => false), orchestrator().fireDueSchedules(HOUR)]);
      const fired = swept.fired.includes(id);
      expect([unscheduled, fired].filter(Boolean)).toHaveLength(1);
      expect((await row(id)).status).toBe(unscheduled ? 'draft' : 'sending');
    });
  });

  describe('racing callers', () => {
    it('of two concurrent pauses exactly one wins', async () => {
      const id = await sending();
      const results = await Promise.all([orchestrator().pause(id, { code: 'editor' }), orchestrator().pause(id, { code: 'quota' })]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await row(id)).paused_reason).toBe(results[0] ? 'editor' : 'quota');
    });

    it('of a schedule and a start that both saw the draft, exactly one takes effect', async () => {
      const id = await draft();
      const at = clock + HOUR;
      const shared = readTogether(2);
      const [scheduled, started] = await Promise.all([orchestrator(shared).schedule(id, at), orchestrator(shared).start(id)]);
      expect([scheduled, started].filter(Boolean)).toHaveLength(1);
      const expected: CampaignStatus = scheduled ? 'scheduled' : 'sending';
      expect((await row(id)).status).toBe(expected);
      expect((await queues.fanout.getJob(fanoutJobId(id))) !== undefined).toBe(started);
    });

    it('of two resumes of the same pause exactly one wins', async () => {
      const id = await sending();
      await orchestrator().pause(id, { code: 'editor' });
      const shared = readTogether(2);
      const results = await Promise.all([orchestrator(shared).resume(id), orchestrator(shared).resume(id)]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await row(id)).status).toBe('sending');
    });

    it("re-adding a campaign's queued rows rebuilds the fan-out's batch jobs: no second job while one waits, every row back once its job is gone", async () => {
      const id = await sending();
      const ledger = new DeliveryLedger(store.db);
      const audience = new AudienceRepository(store.db);
      const job = (data: FanoutJobData) => {
        const j = { data, updateData: async (d: FanoutJobData) => void (j.data = d) };
        return j as unknown as Job<FanoutJobData>;
      };
      // Pages of 4 in batches of 2: {1,2} {3,4} {5} (ids relative to the first subscriber).
      expect(await createFanoutProcessor({ campaigns, ledger, audience, queues }, { firstPageSize: 4, pageSize: 4, batchSize: 2 })(job({ campaignId: id }))).toBe('done');
      const fannedOut = (await queues.send.getJobs(['wait'])).map((j) => recipientsOf(j.data));
      expect(fannedOut.map((ids) => ids.length).sort()).toEqual([1, 2, 2]);
      // The requeue pages by 3, so its first page ends inside the second batch.
      const requeue = createFanoutProcessor({ campaigns, ledger, audience, queues }, { pageSize: 3, batchSize: 2 });
      expect(await requeue(job({ campaignId: id, requeue: { after: 0 } }))).toBe('done');
      expect((await queues.send.getJobs(['wait'])).map((j) => recipientsOf(j.data)).sort()).toEqual(fannedOut.sort());
      // The jobs are gone (taken while the campaign was paused, say): re-adding brings every row back, in its batch.
      await queues.send.obliterate({ force: true });
      expect(await requeue(job({ campaignId: id, requeue: { after: 0 } }))).toBe('done');
      expect((await queues.send.getJobs(['wait'])).map((j) => recipientsOf(j.data)).sort()).toEqual(fannedOut.sort());
    });

    it('a cancel that wins while the fan-out writes a page leaves no row of it queued', async () => {
      const id = await sending();
      const ledger = new DeliveryLedger(store.db);
      const racingLedger = Object.create(ledger) as DeliveryLedger;
      // The fan-out has read the campaign as sending; the editor cancels before its page lands.
      racingLedger.insertQueued = async (campaignId, recipients, now) => {
        expect((await orchestrator().cancel(id)).cancelled).toBe(true);
        return ledger.insertQueued(campaignId, recipients, now);
      };
      const fanout = createFanoutProcessor({ campaigns, ledger: racingLedger, audience: new AudienceRepository(store.db), queues });
      const job = { data: { campaignId: id }, updateData: async () => undefined } as unknown as Job<FanoutJobData>;
      expect(await fanout(job)).toBe('not-sending');
      const counts = await ledger.counts(id, 0);
      expect(counts.byStatus.cancelled).toBe(5);
      expect(counts.byStatus.queued ?? 0).toBe(0);
      expect(await queues.send.getJobCounts('wait')).toEqual({ wait: 0 });
    });

    it('a second cancel is refused, and finishing a cancelled campaign does nothing', async () => {
      const o = orchestrator();
      const id = await sending();
      expect((await o.cancel(id)).cancelled).toBe(true);
      await expect(o.cancel(id)).rejects.toThrow(`campaign ${id} is cancelled; it cannot be cancelled`);
      expect(await o.checkCompletion(id)).toBe(false);
      expect((await row(id)).status).toBe('cancelled');
    });
  });
});
