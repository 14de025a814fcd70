/**
 * Issue #12 on /api and /metrics: /metrics behind METRICS_TOKEN, the OpenAPI document for
 * token holders only, expired API tokens refused with a clear 401, issue files read only
 * from an explicit ISSUES_DIR (no `..`, no symlink out), and a per-token test-send budget
 * (429 with Retry-After).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { apiPlugin } from '../../src/http/api/api-plugin.js';
import { createSurfaceHarness, SAMPLE_MARKDOWN, type SurfaceHarness } from '../support/surface-harness.js';

const METRICS_TOKEN = 'metrics-scraper-token-0123456789';
let h: SurfaceHarness;
beforeAll(async () => {
  // No ISSUES_DIR: the API must take Markdown bodies only.
  h = await createSurfaceHarness({ env: { METRICS_TOKEN, TEST_SENDS_PER_MIN: '10' } });
  // The list campaigns go to (adding a subscriber creates it).
  await h.api('POST', '/api/subscribers', { token: h.tokens.editor, body: { email: 'reader@example.com', list: 'default' } });
});
afterAll(async () => {
  await h?.close();
});

describe('/metrics with METRICS_TOKEN', () => {
  it('answers 401 without the bearer token or with a wrong one, 200 with it', async () => {
    const none = await fetch(`${h.base}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await none.text()).not.toMatch(/newsletter_/);
    for (const wrong of ['nope', METRICS_TOKEN.slice(0, -1), `${METRICS_TOKEN}x`, h.tokens.admin]) {
      expect((await fetch(`${h.base}/metrics`, { headers: { authorization: `Bearer ${wrong}` } })).status, wrong).toBe(401);
    }
    const ok = await fetch(`${h.base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/newsletter_http_requests_total/);
  });

  it('a METRICS_TOKEN shorter than 16 characters is a configuration error naming the variable', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN: at least 16 characters/);
  });
});

describe('the OpenAPI document', () => {
  it('needs an API token', async () => {
    const anonymous = await h.api('GET', '/api/openapi.json');
    expect(anonymous.status).toBe(401);
    expect(anonymous.text).not.toMatch(/"paths"/);
    const editor = await h.api('GET', '/api/openapi.json', { token: h.tokens.editor });
    expect(editor.status).toBe(200);
    expect(editor.json.openapi).toMatch(/^3\./);
  });
});

describe('API token expiry', () => {
  it('refuses an expired token with 401 and a message naming the expiry', async () => {
    const t = await h.ctx.tokens.create('editor', 'short-lived', { expiresInMs: 3600_000 });
    expect((await h.api('GET', '/api/campaigns', { token: t.token })).status).toBe(200);
    await h.store.db.updateTable('api_tokens').set({ expires_at: Date.now() - 1000 }).where('id', '=', t.id).execute();
    const res = await h.api('GET', '/api/campaigns', { token: t.token });
    expect(res.status).toBe(401);
    expect(res.json.error).toMatch(new RegExp(`token #${t.id} "short-lived" expired at \\d{4}-\\d{2}-\\d{2}T`));
    // An unknown token still reads as unknown.
    expect((await h.api('GET', '/api/campaigns', { token: 'nlt_unknown' })).json.error).toBe('invalid token');
  });
});

describe('ISSUES_DIR', () => {
  it('unset: the API reads no file, whatever the path', async () => {
    for (const path of ['examples/2026-11-22-harbor-weekly.md', 'README.md', 'x.md']) {
      const res = await h.api('POST', '/api/campaigns', { token: h.tokens.editor, body: { path, list: 'default' } });
      expect(res.status, path).toBe(400);
      expect(res.json).toMatchObject({ field: 'path' });
      expect(res.json.error).toMatch(/ISSUES_DIR is unset/);
    }
    // Markdown bodies still work.
    const fromBody = await h.api('POST', '/api/campaigns', { token: h.tokens.editor, body: { markdown: SAMPLE_MARKDOWN, list: 'default' } });
    expect(fromBody.status, fromBody.text).toBe(201);
  });

  describe('set', () => {
    let dir: string;
    let outside: string;
    let app: FastifyInstance;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'issues-dir-'));
      outside = mkdtempSync(join(tmpdir(), 'outside-'));
      mkdirSync(join(dir, 'sub'));
      // Own slugs: the same issue on the same list twice would be one campaign (200).
      writeFileSync(join(dir, 'issue.md'), SAMPLE_MARKDOWN.replace('slug: 2026-11-26-week-48', 'slug: from-issues-dir'));
      writeFileSync(join(dir, 'sub', 'nested.md'), SAMPLE_MARKDOWN.replace('slug: 2026-11-26-week-48', 'slug: from-issues-dir-nested'));
      writeFileSync(join(outside, 'secret.md'), SAMPLE_MARKDOWN);
      symlinkSync(join(outside, 'secret.md'), join(dir, 'escape.md'));
      symlinkSync(outside, join(dir, 'linked-dir'));
      // The real API plugin over the harness's real services, confined to `dir`.
      app = Fastify();
      await app.register(apiPlugin, { prefix: '/api', campaigns: h.ctx.campaigns, subscribers: h.ctx.subscribers, verifyToken: h.ctx.verifyToken, issuesDir: dir });
    });
    afterAll(async () => {
      await app?.close();
      rmSync(dir, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    });
    const create = (path: string) =>
      app.inject({ method: 'POST', url: '/api/campaigns', headers: { authorization: `Bearer ${h.tokens.editor}`, 'content-type': 'application/json' }, payload: { path, list: 'default' } });

    it('reads .md files inside it', async () => {
      for (const path of ['issue.md', 'sub/nested.md']) expect((await create(path)).statusCode, path).toBe(201);
    });

    it('refuses `..` (even one that stays inside), absolute paths, symlinks leading out and non-.md files', async () => {
      const cases: Array<[string, RegExp]> = [
        ['../outside/secret.md', /without "\.\."/],
        ['sub/../issue.md', /without "\.\."/],
        [join(outside, 'secret.md'), /relative path/],
        ['escape.md', /symlink leads out/],
        ['linked-dir/secret.md', /symlink leads out/],
        ['issue.txt', /\.md file/],
        ['missing.md', /no such file/],
      ];
      for (const [path, message] of cases) {
        const res = await create(path);
        expect(res.statusCode, path).toBe(400);
        const body = JSON.parse(res.body) as { field: string; error: string };
        expect(body.field, path).toBe('path');
        expect(body.error, path).toMatch(message);
      }
    });
  });
});

describe('test sends: a budget per token', () => {
  it('10 messages a minute per token, then 429 with Retry-After; other tokens keep theirs', async () => {
    const created = await h.api('POST', '/api/campaigns', { token: h.tokens.editor, body: { markdown: SAMPLE_MARKDOWN, list: 'default' } });
    const id = (created.json.campaign as { id: number }).id;
    const t = await h.ctx.tokens.create('editor', 'test sender');
    const to = Array.from({ length: 10 }, (_, i) => `success+t${i}@simulator.amazonses.com`);
    const first = await h.api('POST', `/api/campaigns/${id}/test`, { token: t.token, body: { to } });
    expect(first.status, first.text).toBe(200);
    expect((first.json.sent as string[]).length).toBe(10);

    const res = await fetch(`${h.base}/api/campaigns/${id}/test`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: 'success+more@simulator.amazonses.com' }),
    });
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(((await res.json()) as { error: string }).error).toMatch(/10 messages a minute per token/);

    // The budget is the token's, not the server's.
    const other = await h.api('POST', `/api/campaigns/${id}/test`, { token: h.tokens.editor, body: { to: 'success+other@simulator.amazonses.com' } });
    expect(other.status, other.text).toBe(200);
  });
});
