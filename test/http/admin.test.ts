/**
 * /admin session security over HTTP: login CSRF (double submit), cookie flags (HttpOnly,
 * SameSite=Strict, Secure behind https), CSRF synchronizer token and same-origin check on
 * actions, logout and token revocation ending sessions, bull-board behind the login,
 * login rate limit.
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

function cookieValue(setCookie: string | string[] | undefined, name: string): string | undefined {
  const all = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  const line = all.find((c) => c.startsWith(`${name}=`));
  return line?.slice(name.length + 1).split(';')[0];
}

async function login(token: string, headers: Record<string, string> = {}) {
  const form = await h.app.inject({ method: 'GET', url: '/admin/login', headers });
  const loginCsrf = cookieValue(form.headers['set-cookie'], 'nl_login_csrf')!;
  const field = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
  expect(field).toBe(loginCsrf);
  return h.app.inject({
    method: 'POST',
    url: '/admin/login',
    headers: { ...headers, cookie: `nl_login_csrf=${loginCsrf}`, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: field, token }).toString(),
  });
}

async function session(token = h.tokens.admin) {
  const res = await login(token);
  expect(res.statusCode).toBe(303);
  const id = cookieValue(res.headers['set-cookie'], 'nl_session')!;
  const page = await h.app.inject({ method: 'GET', url: '/admin', headers: { cookie: `nl_session=${id}`, accept: 'text/html' } });
  const csrf = /data-csrf="([^"]+)"/.exec(page.body)![1]!;
  return { id, csrf, cookie: `nl_session=${id}` };
}

describe('/admin', () => {
  it('sends anonymous browsers to the login form and answers 401 JSON otherwise', async () => {
    const page = await h.app.inject({ method: 'GET', url: '/admin', headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/admin/login');
    const json = await h.app.inject({ method: 'GET', url: '/admin/campaigns.json' });
    expect(json.statusCode).toBe(401);
    const queues = await h.app.inject({ method: 'GET', url: '/admin/queues/api/queues' });
    expect(queues.statusCode).toBe(401);
    const basic = await h.app.inject({ method: 'GET', url: '/admin/campaigns.json', headers: { authorization: `Bearer ${h.tokens.admin}` } });
    expect(basic.statusCode).toBe(401); // API tokens are not dashboard sessions
  });

  it('refuses a login without the form token (login CSRF)', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/admin/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${encodeURIComponent(h.tokens.admin)}`,
    });
    expect(res.statusCode).toBe(403);
    expect(cookieValue(res.headers['set-cookie'], 'nl_session')).toBeUndefined();
  });

  it('sets an HttpOnly, SameSite=Strict session cookie, Secure behind https', async () => {
    const plain = await login(h.tokens.admin);
    const line = ([] as string[]).concat(plain.headers['set-cookie'] ?? []).find((c) => c.startsWith('nl_session='))!;
    expect(line).toMatch(/HttpOnly/);
    expect(line).toMatch(/SameSite=Strict/);
    expect(line).toMatch(/Path=\/admin/);
    expect(line).not.toMatch(/Secure/);
    expect(line).not.toContain(h.tokens.admin);
    const https = await login(h.tokens.admin, { 'x-forwarded-proto': 'https' });
    const secure = ([] as string[]).concat(https.headers['set-cookie'] ?? []).find((c) => c.startsWith('nl_session='))!;
    expect(secure).toMatch(/Secure/);
    // Editors log in too (their role is enforced per route: test/http/editor-dashboard.test.ts).
    const editor = await login(h.tokens.editor);
    expect(editor.statusCode).toBe(303);
  });

  it('requires the CSRF token and same origin on actions', async () => {
    const s = await session();
    await h.api('POST', '/api/subscribers', { token: h.tokens.admin, body: { email: 'someone@example.com', list: 'default' } });
    const campaign = await h.api('POST', '/api/campaigns', { token: h.tokens.admin, body: { markdown: (await import('../support/surface-harness.js')).SAMPLE_MARKDOWN, list: 'default' } });
    expect(campaign.status).toBe(201);
    const id = (campaign.json.campaign as { id: number }).id;
    const post = (payload: string, headers: Record<string, string> = {}) =>
      h.app.inject({ method: 'POST', url: `/admin/campaigns/${id}/cancel`, headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload });
    expect((await post('')).statusCode).toBe(403);
    expect((await post('_csrf=wrong')).statusCode).toBe(403);
    expect((await post(`_csrf=${s.csrf}`, { origin: 'https://evil.example' })).statusCode).toBe(403);
    expect((await h.api('GET', `/api/campaigns/${id}`, { token: h.tokens.admin })).json.status).toBe('draft');
    const ok = await post(`_csrf=${s.csrf}`, { origin: 'http://localhost:3000', host: 'localhost:3000' });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe(`/admin/campaigns/${id}?done=cancel`);
    expect((await h.api('GET', `/api/campaigns/${id}`, { token: h.tokens.admin })).json.status).toBe('cancelled');
    // A second cancel is a state error shown on the page, not a crash.
    const again = await post(`_csrf=${s.csrf}`);
    expect(again.headers.location).toBe(`/admin/campaigns/${id}?err=state`);
  });

  it('shows bull-board only inside a session', async () => {
    const s = await session();
    const board = await h.app.inject({ method: 'GET', url: '/admin/queues', headers: { cookie: s.cookie, accept: 'text/html' } });
    expect(board.statusCode).toBe(200);
    const api = await h.app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { cookie: s.cookie } });
    expect(api.statusCode).toBe(200);
    expect(api.body).toMatch(/"name":"(send|fanout)"/);
  });

  it('logout and token revocation end the session', async () => {
    const a = await session();
    const out = await h.app.inject({
      method: 'POST',
      url: '/admin/logout',
      headers: { cookie: a.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `_csrf=${a.csrf}`,
    });
    expect(out.statusCode).toBe(303);
    expect((await h.app.inject({ method: 'GET', url: '/admin/campaigns.json', headers: { cookie: a.cookie } })).statusCode).toBe(401);

    const temp = await h.ctx.tokens.create('admin', 'temporary');
    const b = await session(temp.token);
    expect((await h.app.inject({ method: 'GET', url: '/admin/campaigns.json', headers: { cookie: b.cookie } })).statusCode).toBe(200);
    await h.ctx.tokens.revoke(temp.id);
    expect((await h.app.inject({ method: 'GET', url: '/admin/campaigns.json', headers: { cookie: b.cookie } })).statusCode).toBe(401);
  });

  it('rate-limits login attempts per client', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) {
      const res = await h.app.inject({
        method: 'POST',
        url: '/admin/login',
        remoteAddress: '203.0.113.9',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'token=guess',
      });
      statuses.push(res.statusCode);
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(5);
  });
});
