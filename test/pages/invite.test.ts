/**
 * Editors' adds stay single opt-in unless they ask for a confirmation (`--double-opt-in`),
 * through the real CLI against the same database, Redis prefix and confirmation worker.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AudienceRepository } from '../../src/store/audience-repository.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { createPagesHarness, type PagesHarness } from './harness.js';
import { TEST_SIGNUP_SECRET, TEST_UNSUBSCRIBE_SECRET } from '../support/secrets.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

describe('subscribers add: single opt-in by default, double opt-in on request', () => {
  let h: PagesHarness;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    h = await createPagesHarness('sqlite');
    env = { DATABASE_URL: h.store.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: h.prefix, SIGNUP_SECRET: TEST_SIGNUP_SECRET, UNSUBSCRIBE_SECRET: TEST_UNSUBSCRIBE_SECRET, LOG_LEVEL: 'silent' };
  });
  afterAll(async () => {
    await h?.close();
  });

  const cli = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });

  it('adds at once without the flag; with it, sends a confirmation and adds nobody until confirmed', async () => {
    const db = h.store.db;
    const plain = await cli('subscribers', 'add', 'direct@example.com');
    expect(plain.code).toBe(0);
    const list = Number((await db.selectFrom('lists').select('id').where('name', '=', 'default').executeTakeFirstOrThrow()).id);
    const audience = async () => (await new AudienceRepository(db).audiencePage({ listId: list, afterId: 0, limit: 10 })).map((m) => m.email);
    expect(await audience()).toEqual(['direct@example.com']);
    expect(h.sim.messages).toEqual([]);

    const invited = await cli('subscribers', 'add', 'Invited@Example.com', '--name', 'Iva', '--double-opt-in');
    expect(invited.stderr).toBe('');
    expect(invited.code).toBe(0);
    expect(invited.stdout).toContain('confirmation email queued for invited@example.com');
    const [mail] = await h.waitForMails('invited@example.com', 1);
    expect(await audience()).toEqual(['direct@example.com']);
    expect(await db.selectFrom('subscribers').select('email').where('email', '=', 'invited@example.com').executeTakeFirst()).toBeUndefined();

    const res = await h.app.inject({ method: 'POST', url: new URL(mail!.link).pathname, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
    expect(res.statusCode).toBe(200);
    expect((await audience()).sort()).toEqual(['direct@example.com', 'invited@example.com']);

    await db.insertInto('suppressions').values({ email: 'complainer@example.com', reason: 'complained', detail: null, created_at: Date.now() }).execute();
    const refused = await cli('subscribers', 'add', 'complainer@example.com', '--double-opt-in');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('complainer@example.com bounced, complained or is suppressed');
  });
});
