/**
 * Issue 3 acceptance: two PROCESSES claiming the same ledger rows concurrently never both
 * win, on SQLite and on Postgres.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { BACKENDS, createTestStore, type TestStore } from '../support/store.js';
import { DeliveryLedger } from '../../src/store/delivery-ledger.js';
import { CampaignsRepository } from '../../src/store/campaigns-repository.js';
import { seedAudience, spawnTs } from '../support/pipeline.js';

const ROWS = 1000;

describe.each(BACKENDS)('delivery ledger claims on %s', (dialect) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.drop();
    store = undefined;
  });

  it('two processes racing for the same rows: every row won exactly once', async () => {
    store = await createTestStore(dialect);
    const listId = await seedAudience(store.db, ROWS);
    const campaigns = new CampaignsRepository(store.db);
    const c = await campaigns.create({
      listId, subject: 's', issueTitle: 't', issueSlug: 't', issueDate: null, sourcePath: null,
      sourceMarkdown: '', compiledJson: '{}', scheduledAt: null, status: 'draft',
    });
    const ledger = new DeliveryLedger(store.db);
    const subs = await store.db.selectFrom('subscribers').select(['id', 'email']).orderBy('id').execute();
    expect(subs[0]!.id).toBe(1);
    await ledger.insertQueued(c.id, subs.map((s) => ({ subscriberId: s.id, email: s.email })));
    // Replaying the same page inserts nothing new.
    await ledger.insertQueued(c.id, subs.map((s) => ({ subscriberId: s.id, email: s.email })));

    const fixture = join(import.meta.dirname, 'fixtures/claim-rows.ts');
    const children = ['worker-a', 'worker-b'].map((w) => spawnTs(fixture, [store!.url, String(c.id), String(ROWS), w], {}));
    const outputs = children.map(
      (child) =>
        new Promise<{ ready: Promise<void>; result: Promise<number[]> }>((resolve) => {
          let out = '';
          let markReady: () => void;
          const ready = new Promise<void>((r) => (markReady = r));
          const result = new Promise<number[]>((res, rej) => {
            child.stdout!.on('data', (d: Buffer) => {
              out += d.toString();
              if (out.startsWith('ready\n')) markReady();
            });
            child.on('exit', (code) => (code === 0 ? res(JSON.parse(out.slice('ready\n'.length)) as number[]) : rej(new Error(`claimer exited ${code}`))));
          });
          resolve({ ready, result });
        }),
    );
    const [a, b] = await Promise.all(outputs);
    await Promise.all([a!.ready, b!.ready]);
    for (const child of children) child.stdin!.write('go\n');
    const [wonA, wonB] = await Promise.all([a!.result, b!.result]);
    const both = wonA.filter((id) => new Set(wonB).has(id));
    expect(both).toEqual([]);
    expect(wonA.length + wonB.length).toBe(ROWS);
    // Real concurrency: each process won a share (they raced, not ran one after the other).
    expect(Math.min(wonA.length, wonB.length)).toBeGreaterThan(0);

    const rows = await store.db.selectFrom('deliveries').select(['status', 'attempts', 'claimed_by']).where('campaign_id', '=', c.id).execute();
    expect(rows).toHaveLength(ROWS);
    expect(rows.every((r) => r.status === 'sending' && r.attempts === 1)).toBe(true);
    expect(rows.filter((r) => r.claimed_by === 'worker-a')).toHaveLength(wonA.length);
  });
});
