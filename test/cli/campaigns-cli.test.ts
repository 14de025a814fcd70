/**
 * Issue 17: `campaigns pause|resume|cancel` of an id that does not exist say "not found"
 * (pause used to answer "not sending"); a campaign that exists but cannot pause says why.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { seedCampaign, seedList } from '../support/seed.js';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

function cli(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('newsletter campaigns pause|resume|cancel (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'campaigns-cli-'));
  const prefix = uniquePrefix('campaigns-cli');
  const env = { DATABASE_URL: `sqlite:${join(dir, 'cli.db')}`, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn' };
  let draftId: number;
  beforeAll(async () => {
    const store = await openStore(env.DATABASE_URL);
    draftId = await seedCampaign(store.db, await seedList(store.db, 'default'), 'draft');
    await store.destroy();
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await deletePrefix(prefix);
  });

  it('a missing campaign is not found, for pause, resume and cancel alike', async () => {
    for (const action of ['pause', 'resume', 'cancel']) {
      const run = await cli(env, 'campaigns', action, '999');
      expect(run.code, `${action}: ${run.stderr}`).toBe(1);
      expect(run.stderr, action).toBe('newsletter: campaign 999 not found\n');
    }
  });

  it('a draft cannot pause, and says so', async () => {
    const run = await cli(env, 'campaigns', 'pause', String(draftId));
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`newsletter: campaign ${draftId} is draft; only a sending campaign can pause\n`);
  });
});
