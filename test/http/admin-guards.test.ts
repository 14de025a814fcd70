/**
 * Issue #12 on the dashboard: bull-board's actions need the session's CSRF token (not just
 * an Origin check), an expired API token cannot log in and ends its sessions, the token
 * list shows expiry and last use, and the OpenAPI reference sits behind the login.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSurfaceHarness, type SurfaceHarness } from '../support/surface-harness.js';

let h: SurfaceHarness;
beforeAll(async () => {
  h = await createSurfaceHarness();
});
afterAll(async () => {
  await h?.close();
});

function cookieLine(setCookie: string | string[] | undefined, name: string): string | undefined {
  return ([] as string[]).concat(setCookie ?? []).find((c) => c.startsWith(`${name}=`));
}
const cookieValue = (setCookie: string | string[] | undefined, name: string) => cookieLine(setCookie, name)?.slice(name.length + 1).split(';')[0];

async function login(token: string) {
  const form = await h.app.inject({ method: 'GET', url: '/admin/login' });
  const loginCsrf = cookieValue(form.headers['set-cookie'], 'nl_login_csrf')!;
  return h.app.inject({
    method: 'POST',
    url: '/admin/login',
    headers: { cookie: `nl_login_csrf=${loginCsrf}`, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: loginCsrf, token }).toString(),
  });
}

async function session(token = h.tokens.admin) {
  const res = await login(token);
  expect(res.statusCode, res.body).toBe(303);
  const id = cookieValue(res.headers['set-cookie'], 'nl_session')!;
  const page = await h.app.inject({ method: 'GET', url: '/admin', headers: { cookie: `nl_session=${id}`, accept: 'text/html' } });
  const csrf = /data-csrf="([^"]+)"/.exec(page.body)![1]!;
  return { csrf, cookie: `nl_session=${id}` };
}

const expire = (id: number) => h.store.db.updateTable('api_tokens').set({ expires_at: Date.now() - 1000 }).where('id', '=', id).execute();

describe('bull-board actions need the dashboard CSRF token', () => {
  it('refuses a PUT with neither Origin nor Sec-Fetch-Site nor token; accepts the token its UI echoes from the XSRF-TOKEN cookie', async () => {
    const s = await session();
    const queue = h.ctx.send.queues.send;
    const pause = (headers: Record<string, string> = {}) =>
      h.app.inject({ method: 'PUT', url: `/admin/queues/api/queues/${queue.name}/pause`, headers: { cookie: s.cookie, ...headers } });

    // The request a cross-site form or an old browser could make: no Origin, no Sec-Fetch-Site.
    const bare = await pause();
    expect(bare.statusCode).toBe(403);
    expect(bare.body).toMatch(/CSRF/);
    expect((await pause({ 'x-xsrf-token': 'wrong' })).statusCode).toBe(403);
    expect(await queue.isPaused()).toBe(false);

    // bull-board's page hands its UI the session's token in a JS-readable cookie on its own path.
    const board = await h.app.inject({ method: 'GET', url: '/admin/queues', headers: { cookie: s.cookie, accept: 'text/html' } });
    expect(board.statusCode).toBe(200);
    const line = cookieLine(board.headers['set-cookie'], 'XSRF-TOKEN')!;
    expect(line).toMatch(/Path=\/admin\/queues/);
    expect(line).toMatch(/SameSite=Strict/);
    expect(line).not.toMatch(/HttpOnly/);
    const xsrf = cookieValue(board.headers['set-cookie'], 'XSRF-TOKEN')!;
    expect(xsrf).toBe(s.csrf);

    // What axios sends on a same-origin request: the cookie's value as X-XSRF-TOKEN.
    const ok = await pause({ 'x-xsrf-token': xsrf });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(await queue.isPaused()).toBe(true);
    // Another session's token does not do.
    const other = await session();
    expect((await h.app.inject({ method: 'PUT', url: `/admin/queues/api/queues/${queue.name}/resume`, headers: { cookie: other.cookie, 'x-xsrf-token': xsrf } })).statusCode).toBe(403);
    const resumed = await h.app.inject({ method: 'PUT', url: `/admin/queues/api/queues/${queue.name}/resume`, headers: { cookie: s.cookie, 'x-xsrf-token': xsrf } });
    expect(resumed.statusCode).toBe(200);
    expect(await queue.isPaused()).toBe(false);
  });
});

describe('API token expiry on the dashboard', () => {
  it('an expired admin token cannot log in, and the login page says it expired', async () => {
    const t = await h.ctx.tokens.create('admin', 'expired admin', { expiresInMs: 3600_000 });
    expect((await login(t.token)).statusCode).toBe(303);
    await expire(t.id);
    const res = await login(t.token);
    expect(res.statusCode).toBe(401);
    expect(res.body).toMatch(/expired at \d{4}-\d{2}-\d{2}T/);
    expect(cookieValue(res.headers['set-cookie'], 'nl_session')).toBeUndefined();
  });

  it('a session ends when its token expires', async () => {
    const t = await h.ctx.tokens.create('admin', 'expiring admin', { expiresInMs: 3600_000 });
    const s = await session(t.token);
    expect((await h.app.inject({ method: 'GET', url: '/admin/campaigns.json', headers: { cookie: s.cookie } })).statusCode).toBe(200);
    await expire(t.id);
    expect((await h.app.inject({ method: 'GET', url: '/admin/campaigns.json', headers: { cookie: s.cookie } })).statusCode).toBe(401);
  });

  it('/admin/tokens lists each token with its expiry and last use, never the token', async () => {
    const expiring = await h.ctx.tokens.create('editor', 'ci deploy', { expiresInMs: 90 * 86400_000 });
    const unused = await h.ctx.tokens.create('editor', 'never used');
    await h.api('GET', '/api/campaigns', { token: expiring.token });
    const s = await session();
    const page = await h.app.inject({ method: 'GET', url: '/admin/tokens', headers: { cookie: s.cookie, accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    const row = (id: number) => new RegExp(`<tr data-token-id="${id}">[\\s\\S]*?</tr>`).exec(page.body)![0];
    const expiresAt = new Date(expiring.expires_at!).toISOString().slice(0, 16).replace('T', ' ');
    expect(row(expiring.id)).toContain('ci deploy');
    expect(row(expiring.id)).toMatch(new RegExp(`class="expires">${expiresAt}<`));
    expect(row(expiring.id)).toMatch(/class="last-used">\d{4}-\d{2}-\d{2} \d{2}:\d{2}</);
    expect(row(unused.id)).toMatch(/class="expires">never</);
    expect(row(unused.id)).toMatch(/class="last-used">never</);
    for (const secret of [expiring.token, unused.token, h.tokens.admin]) expect(page.body).not.toContain(secret);
    // Behind the login like the rest.
    expect((await h.app.inject({ method: 'GET', url: '/admin/tokens', headers: { accept: 'text/html' } })).statusCode).toBe(303);
  });
});

describe('the OpenAPI reference', () => {
  it('is browsable at /admin/api-docs inside a session only; /api/docs points there', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/admin/api-docs', headers: { accept: 'text/html' } })).statusCode).toBe(303);
    expect((await h.app.inject({ method: 'GET', url: '/admin/api-docs/json' })).statusCode).toBe(401);
    const s = await session();
    const ui = await h.app.inject({ method: 'GET', url: '/admin/api-docs', headers: { cookie: s.cookie, accept: 'text/html' } });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toMatch(/swagger/i);
    const spec = await h.app.inject({ method: 'GET', url: '/admin/api-docs/json', headers: { cookie: s.cookie } });
    expect(spec.statusCode).toBe(200);
    expect(JSON.parse(spec.body).paths['/api/campaigns']).toBeDefined();
    const old = await h.app.inject({ method: 'GET', url: '/api/docs' });
    expect(old.statusCode).toBe(302);
    expect(old.headers.location).toBe('/admin/api-docs');
  });
});
