/**
 * Issue 17 (SQLite contention): several processes writing one SQLite file at once — two
 * real `serve` processes taking SES webhooks, a worker sending a campaign (and this process
 * applying its Send events), and a 50,000-row `subscribers import` — must never answer
 * "database is locked". Deferred transactions that read and then write were refused at
 * once by SQLite (busy_timeout does not apply to that upgrade); with `begin immediate` every
 * writer waits its turn. Every webhook answers 2xx and every notification is applied once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { createSnsSigningIdentity, signedNotification } from '../../src/simulator/sns-signer.js';
import { createHarness, type Harness } from '../support/send-harness.js';
import { seedCampaign, seedDeliveries, seedList } from '../support/seed.js';
import { ROOT } from '../support/pipeline.js';
import { waitFor } from '../support/wait.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:contention';
const NOTIFICATIONS = 3000;
const REPLAYS = 500;
const IMPORT_ROWS = 50_000;
const CONNECTIONS_PER_SERVER = 16;

const dir = mkdtempSync(join(tmpdir(), 'sqlite-contention-'));
const children: ChildProcess[] = [];
let h: Harness | undefined;

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Child {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
}

function cli(args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return { child, out: () => out, err: () => err, exit };
}

async function serve(env: Record<string, string>): Promise<{ proc: Child; url: string }> {
  const proc = cli(['serve', '--port', '0', '--host', '127.0.0.1'], env);
  const url = await waitFor(
    'serve listening',
    () => {
      if (proc.child.exitCode !== null) throw new Error(`serve exited: ${proc.err()}`);
      return /listening on (http:\/\/[\d.:]+)/.exec(proc.out())?.[1];
    },
    120_000,
    50,
  );
  return { proc, url };
}

describe('SQLite: two servers, a worker, an import and webhook load on one file', () => {
  it('never answers "database is locked": every webhook 2xx, every notification applied once, the import and the send complete', async () => {
    h = await createHarness({ dialect: 'sqlite', subscribers: 1000, sendRate: 200, sendEvents: true });
    const db = h.store.db;

    // Ledger rows of an earlier campaign, for the webhooks to move to delivered.
    const hookCampaign = await seedCampaign(db, await seedList(db, 'hooks'));
    await seedDeliveries(db, hookCampaign, NOTIFICATIONS, { emailPrefix: 'hook', sesPrefix: 'hook-' });

    const identity = await createSnsSigningIdentity();
    const certs = join(dir, 'sns-certs.json');
    writeFileSync(certs, JSON.stringify({ [identity.certUrl]: identity.certPem }));
    const env = { ...h.env, SNS_TOPIC_ARNS: TOPIC, SNS_CERTS: certs };

    const csv = join(dir, 'import.csv');
    writeFileSync(csv, 'email,name,plan\n' + Array.from({ length: IMPORT_ROWS }, (_, i) => `imported${i}@example.com,Imported ${i},free\n`).join(''));

    const [a, b] = await Promise.all([serve(env), serve(env)]);
    const worker = await h.spawnWorker();
    let workerErr = '';
    worker.stderr!.on('data', (d: Buffer) => (workerErr += d.toString()));

    const bodies = Array.from({ length: NOTIFICATIONS }, (_, i) =>
      JSON.stringify(
        signedNotification(
          { eventType: 'Delivery', mail: { messageId: `hook-${i}`, destination: [`hook${i}@example.com`] }, delivery: { timestamp: new Date(1_000_000 + i).toISOString() } },
          identity,
          { topicArn: TOPIC },
        ),
      ),
    );
    // Every 6th notification is posted twice, the copy to the other server.
    const posts = [...bodies.map((body, i) => ({ body, i })), ...bodies.flatMap((body, i) => (i % 6 === 0 ? [{ body, i }] : []))];
    expect(posts).toHaveLength(NOTIFICATIONS + REPLAYS);

    // All at once: the import, the campaign, and the webhooks to both servers.
    const importing = cli(['subscribers', 'import', csv, '--list', 'imported'], env);
    const campaignId = await h.startCampaign();
    const results: Array<{ i: number; status: number; applied: boolean | undefined; error?: string }> = [];
    let next = 0;
    const pools = [new Pool(a.url, { connections: CONNECTIONS_PER_SERVER }), new Pool(b.url, { connections: CONNECTIONS_PER_SERVER })];
    await Promise.all(
      Array.from({ length: CONNECTIONS_PER_SERVER * 2 }, async (_, worker) => {
        while (next < posts.length) {
          const k = next++;
          const { body, i } = posts[k]!;
          const pool = pools[(worker + (k >= NOTIFICATIONS ? 1 : 0)) % 2]!;
          const res = await pool.request({ method: 'POST', path: '/webhooks/ses', headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' }, body });
          const text = await res.body.text();
          let json: { applied?: boolean; error?: string } = {};
          try {
            json = JSON.parse(text) as typeof json;
          } catch {
            json = { error: text };
          }
          results.push({ i, status: res.statusCode, applied: json.applied, error: json.error });
        }
      }),
    );
    await Promise.all(pools.map((p) => p.close()));

    // Every webhook answered 2xx, and no process was ever told the database was locked.
    expect(results.filter((r) => r.status < 200 || r.status >= 300).map((r) => `${r.status} ${r.error ?? ''}`)).toEqual([]);
    const locked = (text: string) => text.split('\n').filter((l) => /database is locked|SQLITE_BUSY/.test(l)).length;
    expect({ serveA: locked(a.proc.err()), serveB: locked(b.proc.err()), import: locked(importing.err()), worker: locked(workerErr) }).toEqual({ serveA: 0, serveB: 0, import: 0, worker: 0 });

    expect(await importing.exit, importing.err().slice(0, 2000)).toBe(0);
    expect(importing.out()).toContain(`${IMPORT_ROWS} rows: ${IMPORT_ROWS} imported, 0 updated, 0 skipped`);
    await h.waitForStatus(campaignId, 'sent', 120_000);

    const appliedPer = new Map<number, number>();
    for (const r of results) appliedPer.set(r.i, (appliedPer.get(r.i) ?? 0) + (r.applied ? 1 : 0));
    expect(appliedPer.size).toBe(NOTIFICATIONS);
    expect([...appliedPer.values()].filter((n) => n !== 1)).toEqual([]);
    expect(results.filter((r) => r.applied === false)).toHaveLength(REPLAYS);

    const events = await db.selectFrom('events').select(['ses_message_id']).where('campaign_id', '=', hookCampaign).execute();
    expect(events).toHaveLength(NOTIFICATIONS);
    const rows = await db.selectFrom('deliveries').select(['status', 'ses_message_id', 'outcome_at']).where('campaign_id', '=', hookCampaign).execute();
    expect(rows.filter((r) => r.status !== 'delivered' || r.outcome_at !== 1_000_000 + Number(r.ses_message_id!.slice('hook-'.length)))).toEqual([]);

    // The send completed exactly once per subscriber.
    const counts = h.counts();
    const notOnce = h.expectedEmails().filter((e) => counts.get(e) !== 1);
    if (notOnce.length > 0) {
      const ledger = await db.selectFrom('deliveries').select(['email', 'status', 'attempts', 'last_error']).where('campaign_id', '=', campaignId).where('email', 'in', notOnce).execute();
      console.error('not exactly once:', notOnce.map((e) => `${e}=${counts.get(e) ?? 0}`), ledger, workerErr.slice(-4000));
    }
    expect(notOnce).toEqual([]);
    const imported = await db.selectFrom('list_members').innerJoin('lists', 'lists.id', 'list_members.list_id').where('lists.name', '=', 'imported').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(imported.n)).toBe(IMPORT_ROWS);
  }, 400_000);
});
