import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real CLI, as a user runs it, against a temporary SQLite file. */
function cli(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('newsletter subscribers (CLI)', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'subscribers-cli-'));
    env = { DATABASE_URL: `sqlite:${join(dir, 'cli.db')}` };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('imports a CSV, reports bad rows by line with exit 1, and shows a subscriber as JSON', async () => {
    const file = join(dir, 'people.csv');
    writeFileSync(file, '\ufeffemail,name,team\r\nada@example.com,Ada,core\r\nnope,Bad,x\r\nADA@example.com,Dup,x\r\nbob@example.com,"Bob\r\nB",web\r\n');
    const imported = await cli(env, 'subscribers', 'import', file);
    expect(imported.code).toBe(1);
    expect(imported.stderr).toContain(`${file}:3: "nope" is not an email address`);
    expect(imported.stderr).toContain(`${file}:4: duplicate address ada@example.com (first on line 2)`);
    expect(imported.stdout).toMatch(/4 rows: 2 imported, 0 updated, 2 skipped \(2 bad, 0 suppressed\) into list default/);

    const shown = await cli(env, 'subscribers', 'show', 'Bob@Example.com', '--json');
    expect(shown.code).toBe(0);
    const view = JSON.parse(shown.stdout) as Record<string, unknown>;
    expect(view).toMatchObject({
      email: 'bob@example.com',
      name: 'Bob B',
      status: 'active',
      lists: [{ name: 'default', status: 'subscribed' }],
      attributes: { team: 'web' },
    });
  });

  it('add, unsubscribe, export, remove; suppressed addresses cannot come back', async () => {
    const added = await cli(env, 'subscribers', 'add', ' Dee@Example.com ', '--name', 'Dee', '--list', 'weekly');
    expect(added).toMatchObject({ code: 0 });
    expect(added.stdout).toContain('added dee@example.com to list weekly');

    const unsub = await cli(env, 'subscribers', 'unsubscribe', 'dee@example.com', '--list', 'weekly');
    expect(unsub.code).toBe(0);
    const view = JSON.parse((await cli(env, 'subscribers', 'show', 'dee@example.com', '--json')).stdout) as Record<string, unknown>;
    expect(view).toMatchObject({ status: 'unsubscribed', lists: [{ name: 'weekly', status: 'unsubscribed' }] });

    const exported = await cli(env, 'subscribers', 'export', '--list', 'weekly');
    expect(exported.code).toBe(0);
    const lines = exported.stdout.trim().split('\n');
    expect(lines[0]).toBe('email,name,status,list_status,created_at');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 4).join(','))).toEqual(['dee@example.com,Dee,unsubscribed,unsubscribed']);

    const removed = await cli(env, 'subscribers', 'remove', 'DEE@example.com');
    expect(removed.code).toBe(0);
    const gone = await cli(env, 'subscribers', 'show', 'dee@example.com');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/dee@example.com.*suppressed: removed.*not found/);
    const back = await cli(env, 'subscribers', 'add', 'dee@example.com');
    expect(back.code).toBe(1);
    expect(back.stderr).toContain('dee@example.com is suppressed (removed)');
  });

  it('usage errors exit 2 and name the problem', async () => {
    const bad = await cli(env, 'subscribers', 'add', 'not an address');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"not an address" is not an email address');
  });
});
