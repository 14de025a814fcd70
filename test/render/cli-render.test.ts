/** The real CLI (`node --import tsx src/cli/main.ts`) for render and check, exit codes included. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyUnsubscribeToken } from '../../src/unsubscribe/token.js';
import { EXAMPLE_ISSUE, EXAMPLE_SITE_URL } from '../support/example-issue.js';
import { createTestStore, type TestStore } from '../support/store.js';
import { seedAudience } from '../support/pipeline.js';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'cli-render-'));
const write = (name: string, content: string | Buffer): string => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}
function cli(args: string[], env: Record<string, string> = { SITE_URL: EXAMPLE_SITE_URL }): Promise<Run> {
  return new Promise((resolve) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    if (!('SITE_URL' in env)) delete childEnv.SITE_URL;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: childEnv });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
  });
}

const broken = write('broken.md', '---\ntitle: Broken links\ndate: 2026-13-01\n---\n\nSee [nothing]() and [old issue](/2018/20180205).\n\n![](https://example.com/chart.png)\n');
const noFrontMatter = write('plain.md', '# Hello\n\nNo front matter here.\n');
const badUtf8 = write('latin1.md', Buffer.concat([Buffer.from('---\ntitle: x\n---\n\ncaf'), Buffer.from([0xe9]), Buffer.from('\n')]));
const huge = write('huge.md', Buffer.alloc(5 * 1024 * 1024, 'a'));

describe('newsletter render', () => {
  it('prints html, text, mjml, json and eml for one file to stdout', async () => {
    const [html, text, mjml, json, eml] = await Promise.all(
      ['html', 'text', 'mjml', 'json', 'eml'].map((f) => cli(['render', EXAMPLE_ISSUE, '--format', f, '--to', 'kofi@example.net'])),
    );
    for (const r of [html, text, mjml, json, eml]) expect(r?.code, r?.stderr).toBe(0);
    expect(html?.stdout.toString()).toMatch(/^<!doctype html>/);
    expect(html?.stdout.toString()).toContain(`href="${EXAMPLE_SITE_URL}/feed.xml"`);
    expect(html?.stdout.toString()).toContain('kofi@example.net');
    expect(text?.stdout.toString()).toContain(`RSS feed <${EXAMPLE_SITE_URL}/feed.xml>`);
    expect(mjml?.stdout.toString()).toMatch(/^<mjml lang="en">[\s\S]*\{\{unsubscribeUrl\}\}[\s\S]*<\/mjml>/);
    expect(JSON.parse(json?.stdout.toString() ?? '')).toMatchObject({ version: 1, meta: { slug: '2026-11-22-update' } });
    const mail = await simpleParser(eml?.stdout as Buffer);
    expect(mail.to).toMatchObject({ value: [{ address: 'kofi@example.net' }] });
    expect(mail.subject).toBe('Tidewater Weekly: Week Ending November 22, 2026');
    expect(mail.headers.get('list')).toMatchObject({ unsubscribe: { url: 'http://localhost:3000/u/sample-token' } });
  });

  it('writes several files into --out-dir as <name>.<ext>, and refuses several without it', async () => {
    const second = write('second-issue.md', '---\ntitle: Second\n---\n\n## News\n\nHello [world](https://example.org/).\n');
    const out = join(dir, 'out');
    const r = await cli(['render', EXAMPLE_ISSUE, second, '--format', 'text', '--out-dir', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['2026-11-22-harbor-weekly.txt', 'second-issue.txt']);
    expect(readFileSync(join(out, 'second-issue.txt'), 'utf8')).toContain('world <https://example.org/>');
    const refused = await cli(['render', EXAMPLE_ISSUE, second]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('several files need --out-dir');
  });

  it('bad input gives a clear error naming the file, never a crash', async () => {
    const [nofm, missing, utf8, big, badTo, badFormat] = await Promise.all([
      cli(['render', noFrontMatter]),
      cli(['render', join(dir, 'missing.md')]),
      cli(['render', badUtf8]),
      cli(['render', huge]),
      cli(['render', EXAMPLE_ISSUE, '--format', 'eml', '--to', 'a@example.com\r\nBcc: victim@example.com']),
      cli(['render', EXAMPLE_ISSUE, '--format', 'pdf']),
    ]);
    expect([nofm?.code, nofm?.stderr]).toEqual([1, expect.stringContaining(`${noFrontMatter}: line 1: no front matter`)]);
    expect([missing?.code, missing?.stderr]).toEqual([1, expect.stringContaining('missing.md: cannot read file (ENOENT)')]);
    expect([utf8?.code, utf8?.stderr]).toEqual([1, expect.stringContaining(`${badUtf8}:5: invalid UTF-8`)]);
    expect([big?.code, big?.stderr]).toEqual([1, expect.stringContaining(`${huge}: file is 5.0 MB`)]);
    expect([badTo?.code, badTo?.stdout.length, badTo?.stderr]).toEqual([2, 0, expect.stringContaining('invalid --to address')]);
    expect([badFormat?.code, badFormat?.stderr]).toEqual([2, expect.stringContaining('unknown --format pdf')]);
    for (const r of [nofm, missing, utf8, big, badTo, badFormat]) expect(r?.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('newsletter render --to: a subscriber gets their own message, anyone else a sample', () => {
  const SECRET = 'render-secret-render-secret-render-secret';
  let store: TestStore;
  let listId: number;
  let env: Record<string, string>;
  beforeAll(async () => {
    store = await createTestStore('sqlite');
    listId = await seedAudience(store.db, 2); // reader1@, reader2@example.com on list "default"
    await seedAudience(store.db, 0, { listName: 'other' });
    env = { SITE_URL: EXAMPLE_SITE_URL, DATABASE_URL: store.url, UNSUBSCRIBE_SECRET: SECRET, PUBLIC_URL: 'https://news.example.com' };
  });
  afterAll(async () => {
    await store?.drop();
  });
  const unsubscribeUrl = (mail: Awaited<ReturnType<typeof simpleParser>>) => (mail.headers.get('list') as { unsubscribe: { url: string } }).unsubscribe.url;

  it('a subscriber of --list (default `default`): their address, the list\'s List-Id and a real signed unsubscribe link', async () => {
    const r = await cli(['render', EXAMPLE_ISSUE, '--format', 'eml', '--to', 'reader2@example.com'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/sample/);
    const mail = await simpleParser(r.stdout);
    expect(mail.to).toMatchObject({ value: [{ address: 'reader2@example.com', name: 'Reader 2' }] });
    expect(mail.headerLines.find((h) => h.key === 'list-id')?.line).toBe(`List-Id: Newsletter <list-${listId}.news.example.com>`);
    const url = unsubscribeUrl(mail);
    expect(url.startsWith('https://news.example.com/u/')).toBe(true);
    const reader2 = await store.db.selectFrom('subscribers').select('id').where('email', '=', 'reader2@example.com').executeTakeFirstOrThrow();
    expect(verifyUnsubscribeToken(url.slice('https://news.example.com/u/'.length), [SECRET])).toEqual({ subscriberId: reader2.id, listId });
  }, 120_000);

  it('an unknown address, or no database: a sample, said on stderr; not a member or no secret: refused plainly', async () => {
    const [unknown, noDb, notMember, noSecret] = await Promise.all([
      cli(['render', EXAMPLE_ISSUE, '--format', 'eml', '--to', 'stranger@example.net'], env),
      cli(['render', EXAMPLE_ISSUE, '--format', 'eml', '--to', 'reader1@example.com'], { ...env, DATABASE_URL: `sqlite:${join(dir, 'none.db')}` }),
      cli(['render', EXAMPLE_ISSUE, '--format', 'eml', '--to', 'reader1@example.com', '--list', 'other'], env),
      cli(['render', EXAMPLE_ISSUE, '--format', 'eml', '--to', 'reader1@example.com'], { ...env, UNSUBSCRIBE_SECRET: '' }),
    ]);
    for (const [r, why] of [[unknown, 'stranger@example.net is not a subscriber'], [noDb, 'no database']] as const) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(why);
      expect(r.stderr).toContain('sample recipient');
      expect(unsubscribeUrl(await simpleParser(r.stdout))).toBe('https://news.example.com/u/sample-token');
    }
    expect(readdirSync(dir)).not.toContain('none.db'); // a preview creates no database
    expect([notMember.code, notMember.stdout.length, notMember.stderr]).toEqual([2, 0, expect.stringContaining('reader1@example.com is not a member of list "other"')]);
    expect([noSecret.code, noSecret.stdout.length, noSecret.stderr]).toEqual([2, 0, expect.stringContaining('UNSUBSCRIBE_SECRET is not set')]);
  }, 120_000);
});

describe('newsletter check', () => {
  it('exits 0 on a clean issue', async () => {
    const r = await cli(['check', EXAMPLE_ISSUE]);
    expect([r.code, r.stdout.toString(), r.stderr]).toEqual([0, `${EXAMPLE_ISSUE}: ok\n`, '']);
  });

  it('exits 1 and lists every problem with file:line on stderr', async () => {
    const r = await cli(['check', broken], {});
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `${broken}:3: warning: date "2026-13-01" is not a valid date`,
      `${broken}:6: error: empty link [nothing]()`,
      `${broken}:6: error: root-relative link /2018/20180205 needs SITE_URL to become absolute`,
      `${broken}:8: error: image without alt text: https://example.com/chart.png`,
    ]);
    expect(r.stdout.toString()).toBe(`${broken}: 3 error(s), 1 warning(s)\n`);
  });

  it('reports unreadable, non-UTF-8, oversized and front-matter-less files as errors', async () => {
    const r = await cli(['check', noFrontMatter, badUtf8, huge, join(dir, 'missing.md')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${noFrontMatter}:1: error: no front matter`);
    expect(r.stderr).toContain(`${badUtf8}:5: error: invalid UTF-8`);
    expect(r.stderr).toContain(`${huge}: error: file is 5.0 MB`);
    expect(r.stderr).toContain('missing.md: error: cannot read file (ENOENT)');
  });
});
