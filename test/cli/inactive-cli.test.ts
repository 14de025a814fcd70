/**
 * `newsletter subscribers inactive --issues N [--suppress]` through the real CLI on both
 * backends: who had no human open or click in the last N sent issues (Apple MPP opens do not
 * count), the move to `sunset` that the audience skips, and the reader's undo from a past
 * email's unsubscribe page and from the sign-up confirmation.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSnsSigningIdentity, type SnsSigningIdentity } from '../../src/simulator/sns-signer.js';
import { signUnsubscribeToken } from '../../src/unsubscribe/token.js';
import { confirmSignup } from '../../src/signup/signup-service.js';
import { openRepositories } from '../../src/store/repositories.js';
import { BACKENDS } from '../support/store.js';
import { createHarness, type Harness } from '../events/harness.js';
import { seedCampaign, seedDelivery, seedList, seedSubscriber } from '../support/seed.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

function cli(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

let identity: SnsSigningIdentity;
beforeAll(async () => {
  identity = await createSnsSigningIdentity();
});

describe.each(BACKENDS)('subscribers inactive / sunset (%s)', (dialect) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('lists readers without human engagement, sets them aside, and lets them undo it', async () => {
    h = await createHarness(dialect, identity);
    const db = h.store.db;
    const env = { DATABASE_URL: h.store.url, UNSUBSCRIBE_SECRET: h.config.UNSUBSCRIBE_SECRET };
    const list = await seedList(db, 'weekly');
    const people = ['ann', 'bob', 'cat', 'dan', 'eve'] as const;
    const id: Record<string, number> = {};
    for (const p of people) id[p] = await seedSubscriber(db, `${p}@example.com`, [list]);
    // Three sent issues, oldest first, and one still sending (not counted).
    const issues: number[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await seedCampaign(db, list, 'sent');
      await db.updateTable('campaigns').set({ started_at: 1_000_000 + i * 1000 }).where('id', '=', c).execute();
      issues.push(c);
    }
    const sending = await seedCampaign(db, list, 'sending');
    await db.updateTable('campaigns').set({ started_at: 2_000_000 }).where('id', '=', sending).execute();
    for (const [i, c] of issues.entries()) {
      for (const p of people) {
        if (p === 'dan' && i === 0) continue; // dan joined after the first issue
        await seedDelivery(db, { campaignId: c, subscriberId: id[p]!, email: `${p}@example.com`, sesMessageId: `m-${c}-${p}`, status: 'delivered' });
      }
    }
    let n = 0;
    const engagement = async (p: string, c: number, type: 'open' | 'click', cls: string, reason: string) =>
      db
        .insertInto('events')
        .values({ sns_message_id: `e-${n++}`, type, subtype: null, ses_message_id: `m-${c}-${p}`, email: `${p}@example.com`, campaign_id: c, subscriber_id: id[p]!, detail: null, occurred_at: 1_500_000, payload: '{}', created_at: 1_500_000, engagement: cls, engagement_reason: reason })
        .execute();
    await engagement('ann', issues[1]!, 'open', 'human', 'mail-client'); // read the middle issue
    for (const c of issues) await engagement('bob', c, 'open', 'machine', 'apple-mpp'); // Apple MPP fetched every one
    await engagement('bob', issues[2]!, 'click', 'machine', 'before-read'); // and a scanner clicked
    await engagement('eve', issues[0]!, 'click', 'human', 'mail-client'); // clicked the oldest only
    await engagement('cat', sending, 'open', 'human', 'mail-client'); // the issue still sending does not count

    const inactive = async (...args: string[]) => {
      const run = await cli(env, 'subscribers', 'inactive', '--list', 'weekly', '--json', ...args);
      expect(run.code, run.stderr).toBe(0);
      return JSON.parse(run.stdout) as { issues: Array<{ id: number }>; inactive: Array<{ email: string }>; count: number; sunset: number };
    };
    const three = await inactive('--issues', '3');
    expect(three.issues.map((i) => i.id)).toEqual([...issues].reverse());
    expect(three.inactive.map((x) => x.email)).toEqual(['bob@example.com', 'cat@example.com']);
    const two = await inactive('--issues', '2');
    expect(two.inactive.map((x) => x.email)).toEqual(['bob@example.com', 'cat@example.com', 'dan@example.com', 'eve@example.com']);
    const tooMany = await cli(env, 'subscribers', 'inactive', '--list', 'weekly', '--issues', '4');
    expect(tooMany.code).toBe(0);
    expect(tooMany.stdout).toBe('');
    expect(tooMany.stderr).toContain('has sent only 3 issue(s)');
    const bad = await cli(env, 'subscribers', 'inactive', '--list', 'weekly', '--issues', 'many');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--issues');

    // --suppress: the two move to sunset; the audience skips them.
    const suppressed = await inactive('--issues', '3', '--suppress');
    expect(suppressed.sunset).toBe(2);
    // The contract's `subscribers show --json` names the new status …
    expect((JSON.parse((await cli(env, 'subscribers', 'show', 'bob@example.com', '--json')).stdout) as { status: string }).status).toBe('sunset');
    // … which the checks below read from the store directly (each CLI run costs seconds here).
    const status = async (p: string) => (await db.selectFrom('subscribers').select('status').where('email', '=', `${p}@example.com`).executeTakeFirstOrThrow()).status;
    expect(await status('cat')).toBe('sunset');
    const repos = openRepositories(h.store);
    const audience = async () => (await repos.audience.audiencePage({ listId: list, afterId: 0, limit: 100 })).map((m) => m.email);
    expect(await audience()).toEqual(['ann@example.com', 'dan@example.com', 'eve@example.com']);
    expect(await repos.audience.isMailable(id.cat!, list)).toBe(false);

    // Undo 1: bob presses "Keep sending it to me" on the unsubscribe page of a past email.
    const token = signUnsubscribeToken({ subscriberId: id.bob!, listId: list }, h.config.UNSUBSCRIBE_SECRET!);
    const page = await h.app.inject({ method: 'GET', url: `/u/${token}` });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Keep sending it to me');
    expect(await status('bob')).toBe('sunset'); // a GET (a scanner's prefetch) changes nothing
    const kept = await h.app.inject({ method: 'POST', url: `/u/${token}/keep`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
    expect(kept.statusCode).toBe(200);
    expect(await status('bob')).toBe('active');
    const again = await h.app.inject({ method: 'POST', url: `/u/${token}/keep`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
    expect(again.statusCode).toBe(409);
    expect(await repos.audience.isMailable(id.bob!, list)).toBe(true);

    // Undo 2: cat signs up again through the form and confirms.
    const requestId = await repos.signupRequests.create({ email: 'cat@example.com', name: null, listId: list, createdAt: Date.now(), expiresAt: Date.now() + 3600_000 });
    expect((await confirmSignup(repos, requestId, Date.now())).kind).toBe('confirmed');
    expect(await status('cat')).toBe('active');
    expect(await audience()).toEqual(['ann@example.com', 'bob@example.com', 'cat@example.com', 'dan@example.com', 'eve@example.com']);

    // Both told us themselves: a second run leaves them alone although their history is unchanged.
    const rerun = await inactive('--issues', '3', '--suppress');
    expect(rerun.inactive).toEqual([]);
    expect(rerun.sunset).toBe(0);
  }, 300_000);
});
