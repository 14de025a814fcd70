/**
 * Issue 5 acceptance, the load item as a test (bench/webhook.ts measures its speed):
 * 2,000 signed SNS notifications posted over 50 concurrent loopback connections, with 500
 * replays of them mixed in at the same time, on both backends: every notification is
 * applied exactly once, every replay changes nothing, and the certificate is fetched once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Pool } from 'undici';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { CachingCertificateSource, ChainedCertificateSource } from '../../src/events/sns-verify.js';
import { buildApp } from '../../src/http/app.js';
import { campaignPauser } from '../support/campaign-pauser.js';
import { createSnsSigningIdentity, signedNotification } from '../../src/simulator/sns-signer.js';
import { BACKENDS, createTestStore, type TestStore } from '../support/store.js';
import { seedCampaign, seedDeliveries, seedList } from '../support/seed.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:load-test';
const COUNT = 2000;
const REPLAYS = 500;
const CONNECTIONS = 50;

describe.each(BACKENDS)('SES webhook under load (%s)', (dialect) => {
  let store: TestStore | undefined;
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    await store?.drop();
    app = undefined;
    store = undefined;
  });

  it('2,000 notifications and 500 concurrent replays over 50 connections: each applied exactly once', async () => {
    store = await createTestStore(dialect);
    const db = store.db;
    const identity = await createSnsSigningIdentity();
    let certFetches = 0;
    const network = {
      getCertificate: async () => {
        certFetches++;
        return identity.certPem;
      },
    };
    const config = loadConfig({ DATABASE_URL: store.url, SNS_TOPIC_ARNS: TOPIC, UNSUBSCRIBE_SECRET: 'load-test-secret' });
    app = await buildApp({ config, store, campaignPauser: campaignPauser(store), logger: pino({ level: 'silent' }), certificateSource: new ChainedCertificateSource(undefined, new CachingCertificateSource(network)) });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });

    const campaignId = await seedCampaign(db, await seedList(db, 'load'));
    await seedDeliveries(db, campaignId, COUNT, { emailPrefix: 'l', sesPrefix: 'load-' });
    const bodies = Array.from({ length: COUNT }, (_, i) =>
      JSON.stringify(
        signedNotification(
          { eventType: 'Delivery', mail: { messageId: `load-${i}`, destination: [`l${i}@example.com`] }, delivery: { timestamp: new Date(1_000_000 + i).toISOString() } },
          identity,
          { topicArn: TOPIC, version: i % 2 === 0 ? '2' : '1' },
        ),
      ),
    );
    // Every 4th notification is also posted a second time, at the same time as the first.
    const posts = [...bodies.map((body, i) => ({ body, i })), ...bodies.filter((_, i) => i % 4 === 0).map((body, k) => ({ body, i: k * 4 }))];
    expect(posts).toHaveLength(COUNT + REPLAYS);
    for (let k = posts.length - 1; k > 0; k--) {
      const j = Math.floor(Math.random() * (k + 1));
      [posts[k], posts[j]] = [posts[j]!, posts[k]!];
    }

    const pool = new Pool(address, { connections: CONNECTIONS, pipelining: 1 });
    const results: Array<{ i: number; status: number; applied: boolean | undefined }> = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (next < posts.length) {
          const { body, i } = posts[next++]!;
          const res = await pool.request({ method: 'POST', path: '/webhooks/ses', headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' }, body });
          const json = (await res.body.json()) as { applied?: boolean };
          results.push({ i, status: res.statusCode, applied: json.applied });
        }
      }),
    );
    await pool.close();

    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    const appliedPerNotification = new Map<number, number>();
    for (const r of results) appliedPerNotification.set(r.i, (appliedPerNotification.get(r.i) ?? 0) + (r.applied ? 1 : 0));
    expect([...appliedPerNotification.values()].filter((n) => n !== 1)).toEqual([]);
    expect(appliedPerNotification.size).toBe(COUNT);
    expect(results.filter((r) => r.applied === false)).toHaveLength(REPLAYS);

    const events = await db.selectFrom('events').select(['sns_message_id', 'ses_message_id', 'type', 'subscriber_id']).where('campaign_id', '=', campaignId).execute();
    expect(events).toHaveLength(COUNT);
    expect(new Set(events.map((e) => e.ses_message_id)).size).toBe(COUNT);
    const rows = await db.selectFrom('deliveries').select(['status', 'ses_message_id', 'outcome_at']).where('campaign_id', '=', campaignId).execute();
    expect(rows.filter((r) => r.status !== 'delivered' || r.outcome_at !== 1_000_000 + Number(r.ses_message_id!.slice('load-'.length)))).toEqual([]);
    expect(certFetches).toBe(1);
  }, 120_000);
});
