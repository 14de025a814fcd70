/**
 * Issue 16: the retention prune runs in a worker, in bounded batches, while that worker sends
 * a live campaign and the webhook takes a load of SES notifications for another campaign, on
 * both backends. Nothing is lost and nothing doubles: every reader of the live campaign gets
 * exactly one message (counted by the SES simulator), every notification is applied exactly
 * once, the pruned campaign's stats, clicks per link and the suppressions stay the same, and
 * the live and recent campaigns keep all their rows.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Pool } from 'undici';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { CachingCertificateSource, ChainedCertificateSource } from '../../src/events/sns-verify.js';
import { buildApp } from '../../src/http/app.js';
import { createSnsSigningIdentity, signedNotification } from '../../src/simulator/sns-signer.js';
import { DashboardQueries } from '../../src/http/admin/dashboard-queries.js';
import { startWorkerRuntime, type WorkerRuntime } from '../../workers/runtime.js';
import { createDefaultDeps } from '../../workers/default-deps.js';
import { BACKENDS } from '../support/store.js';
import { createHarness, type Harness } from '../support/send-harness.js';
import { campaignPauser } from '../support/campaign-pauser.js';
import { seedCampaign, seedDeliveries } from '../support/seed.js';
import { seedFinishedCampaign } from '../support/finished-campaign.js';

const DAY = 86_400_000;
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:retention-load';
const READERS = 600;
const OLD_ROWS = 8000;
const NOTIFICATIONS = 1000;
const CONNECTIONS = 25;

describe.each(BACKENDS)('retention prune under a send and a webhook load (%s)', (dialect) => {
  let h: Harness | undefined;
  let app: FastifyInstance | undefined;
  let worker: WorkerRuntime | undefined;
  afterEach(async () => {
    await worker?.close();
    await app?.close();
    await h?.close();
    worker = undefined;
    app = undefined;
    h = undefined;
  });

  it('prunes in batches while sending and taking webhooks: nothing lost, nothing twice', async () => {
    h = await createHarness({ dialect, subscribers: READERS, sendRate: 150 });
    const db = h.store.db;
    const now = Date.now();
    const old = await seedFinishedCampaign(db, { listId: h.listId, n: OLD_ROWS, finishedAt: now - 45 * DAY, prefix: 'old' });
    // The webhook load's campaign: sent a moment ago, rows 'sent', awaiting their Delivery notifications.
    const hooked = await seedCampaign(db, h.listId, 'sending');
    await seedDeliveries(db, hooked, NOTIFICATIONS, { emailPrefix: 'hook', sesPrefix: 'hook-' });
    const queries = new DashboardQueries(h.store);
    const oldCampaign = (await h.ctx.campaigns.get(old))!;
    const before = {
      stats: await h.ctx.orchestrator.stats(old),
      links: await queries.topLinks(old),
      series: await queries.series(old, oldCampaign.started_at, oldCampaign.finished_at),
      problems: await queries.recentProblems(old),
      suppressions: await db.selectFrom('suppressions').selectAll().orderBy('email').execute(),
    };

    const identity = await createSnsSigningIdentity();
    const appConfig = loadConfig({ ...h.env, SNS_TOPIC_ARNS: TOPIC });
    app = await buildApp({
      config: appConfig, store: h.store, campaignPauser: campaignPauser(h.store), logger: pino({ level: 'silent' }),
      certificateSource: new ChainedCertificateSource(undefined, new CachingCertificateSource({ getCertificate: async () => identity.certPem })),
    });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });

    // One worker sends the live campaign and prunes (LEDGER_RETENTION_DAYS=30) in 500-row batches.
    worker = await startWorkerRuntime({
      config: loadConfig({ ...h.env, LEDGER_RETENTION_DAYS: '30' }),
      createDeps: createDefaultDeps,
      retention: { batchSize: 500, pauseMs: 5 },
      retentionIntervalMs: 3_600_000,
    });
    const live = await h.startCampaign();
    const sentAtPruneStart = { n: 0 };
    const pruning = (async () => {
      // Start once the send is under way, so the batches interleave with it.
      while (h!.sim.messages.length < 20) await new Promise((r) => setTimeout(r, 20));
      sentAtPruneStart.n = h!.sim.messages.length;
      const done = await worker!.prune();
      return { done, sentAtEnd: h!.sim.messages.length };
    })();
    const webhook = (async () => {
      while (h!.sim.messages.length < 20) await new Promise((r) => setTimeout(r, 20));
      const pool = new Pool(address, { connections: CONNECTIONS, pipelining: 1 });
      const applied = new Map<number, number>();
      let next = 0;
      await Promise.all(
        Array.from({ length: CONNECTIONS }, async () => {
          while (next < NOTIFICATIONS) {
            const i = next++;
            const body = JSON.stringify(
              signedNotification({ eventType: 'Delivery', mail: { messageId: `hook-${i}`, destination: [`hook${i}@example.com`] }, delivery: { timestamp: new Date(now + i).toISOString() } }, identity, { topicArn: TOPIC }),
            );
            const res = await pool.request({ method: 'POST', path: '/webhooks/ses', headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' }, body });
            const json = (await res.body.json()) as { applied?: boolean };
            expect(res.statusCode).toBe(200);
            applied.set(i, (applied.get(i) ?? 0) + (json.applied ? 1 : 0));
          }
        }),
      );
      await pool.close();
      return applied;
    })();

    const [{ done, sentAtEnd }, applied] = await Promise.all([pruning, webhook]);
    await h.waitForStatus(live, 'sent', 120_000);

    // The prune ran in many bounded batches, and the send went on meanwhile.
    expect(done.map((d) => d.id)).toEqual([old]);
    expect(done[0]!.ledgerRows).toBe(OLD_ROWS);
    expect(done[0]!.batches).toBeGreaterThanOrEqual(OLD_ROWS / 500);
    expect(sentAtEnd).toBeGreaterThan(sentAtPruneStart.n);

    // Send: every reader exactly once.
    const counts = h.counts();
    expect(h.expectedEmails().filter((e) => counts.get(e) !== 1)).toEqual([]);
    expect(counts.size).toBe(READERS);
    expect(Number((await db.selectFrom('deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', live).where('status', '=', 'sent').executeTakeFirstOrThrow()).n)).toBe(READERS);

    // Webhook: each notification applied exactly once, its event stored once, its row delivered.
    expect([...applied.values()].filter((n) => n !== 1)).toEqual([]);
    expect(applied.size).toBe(NOTIFICATIONS);
    expect(await db.selectFrom('events').select('id').where('campaign_id', '=', hooked).execute()).toHaveLength(NOTIFICATIONS);
    const hookedRows = await db.selectFrom('deliveries').select('status').where('campaign_id', '=', hooked).execute();
    expect(hookedRows.filter((r) => r.status !== 'delivered')).toEqual([]);
    expect(hookedRows).toHaveLength(NOTIFICATIONS);

    // The pruned campaign reads as before; its rows are gone.
    expect(await db.selectFrom('deliveries').select('subscriber_id').where('campaign_id', '=', old).execute()).toEqual([]);
    expect({
      stats: await h.ctx.orchestrator.stats(old),
      links: await queries.topLinks(old),
      series: await queries.series(old, oldCampaign.started_at, oldCampaign.finished_at),
      problems: await queries.recentProblems(old),
      suppressions: await db.selectFrom('suppressions').selectAll().orderBy('email').execute(),
    }).toEqual(before);
  }, 240_000);
});
