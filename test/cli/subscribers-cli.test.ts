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

  it('refuses a Latin-1 file naming the file and line, creating no list; --encoding latin1 imports it correctly', async () => {
    const file = join(dir, 'latin1.csv');
    writeFileSync(file, Buffer.from('email,name\r\nzoe@example.com,Zoe\r\nrene@example.com,René Müller\r\n', 'latin1'));
    const refused = await cli(env, 'subscribers', 'import', file, '--list', 'latin');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`newsletter: ${file}:3: not valid UTF-8 (byte 0xE9); save the file as UTF-8, or import it with --encoding latin1`);
    expect((await cli(env, 'subscribers', 'export', '--list', 'latin')).stderr).toContain('list "latin" not found');
    expect((await cli(env, 'subscribers', 'show', 'rene@example.com')).code).toBe(1);

    const converted = await cli(env, 'subscribers', 'import', file, '--list', 'latin', '--encoding', 'latin1');
    expect(converted.code, converted.stderr).toBe(0);
    expect(converted.stdout).toContain('2 rows: 2 imported');
    const view = JSON.parse((await cli(env, 'subscribers', 'show', 'rene@example.com', '--json')).stdout) as Record<string, unknown>;
    expect(view).toMatchObject({ name: 'René Müller', lists: [{ name: 'latin', status: 'subscribed' }] });

    const unknown = await cli(env, 'subscribers', 'import', file, '--encoding', 'klingon');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--encoding: unknown encoding "klingon"');
  });

  it('refuses a binary file and a file without an email column in one short line, creating no list', async () => {
    const binary = join(dir, 'photo.png');
    writeFileSync(binary, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]), Buffer.alloc(2000, 0xab)]));
    const refused = await cli(env, 'subscribers', 'import', binary, '--list', 'binary');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^newsletter: .*photo\.png:\d+: (binary data \(a NUL byte\), not a CSV text file|not valid UTF-8 \(byte 0x[0-9A-F]{2}\).*)\n$/);
    expect(refused.stderr).toMatch(/^[\x20-\x7e\n]*$/);

    const headerless = join(dir, 'no-email.csv');
    writeFileSync(headerless, `name,${'z'.repeat(600)}\nAda,1\n`);
    const bad = await cli(env, 'subscribers', 'import', headerless, '--list', 'binary');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(`newsletter: ${headerless}:1: header row has no "email" column (found: "name", "${'z'.repeat(37)}...")\n`);
    expect((await cli(env, 'subscribers', 'export', '--list', 'binary')).stderr).toContain('list "binary" not found');
  });

  it('export neutralises formulas a stranger typed in (address and name) with a quote, and re-imports them unchanged', async () => {
    const added = await cli(env, 'subscribers', 'add', '=cmd|calc@example.com', '--name', '=HYPERLINK("http://evil.example","x")', '--list', 'formula');
    expect(added.code, added.stderr).toBe(0);
    const exported = await cli(env, 'subscribers', 'export', '--list', 'formula');
    expect(exported.code).toBe(0);
    const row = exported.stdout.split('\n')[1]!;
    expect(row).toMatch(/^'=cmd\|calc@example.com,"'=HYPERLINK\(""http:\/\/evil.example"",""x""\)",active,subscribed,/);

    const file = join(dir, 'formula.csv');
    writeFileSync(file, exported.stdout);
    const reimported = await cli(env, 'subscribers', 'import', file, '--list', 'formula');
    expect(reimported.code, reimported.stderr).toBe(0);
    expect(reimported.stdout).toContain('1 rows: 0 imported, 1 updated');
    const view = JSON.parse((await cli(env, 'subscribers', 'show', '=cmd|calc@example.com', '--json')).stdout) as Record<string, unknown>;
    expect(view).toMatchObject({ email: '=cmd|calc@example.com', name: '=HYPERLINK("http://evil.example","x")' });
  });
});
