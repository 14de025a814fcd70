/**
 * Issue 13: editors use the dashboard. The session carries the token's role; what an editor
 * may not do (resume, cancel, erase a subscriber, the token list, bull-board) is neither
 * shown nor done: the server answers 403 to the page and to a forged POST that carries the
 * editor session's valid CSRF token, while an admin session does the same things. Every
 * form carries the CSRF token. Real server (inject), real SQLite, Redis and SES simulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSurfaceHarness, SAMPLE_MARKDOWN, type SurfaceHarness } from '../support/surface-harness.js';
import { dashboardLogin, dashboardSession, type DashboardSession } from '../support/dashboard-session.js';

let h: SurfaceHarness;
let editor: DashboardSession;
let admin: DashboardSession;
const READER = 'reader@example.com';

beforeAll(async () => {
  h = await createSurfaceHarness();
  editor = await dashboardSession(h.app, h.tokens.editor);
  admin = await dashboardSession(h.app, h.tokens.admin);
  expect((await h.api('POST', '/api/subscribers', { token: h.tokens.admin, body: { email: READER, list: 'default' } })).status).toBe(201);
});
afterAll(async () => {
  await h?.close();
});

/** A campaign in `status`, made through the API (no worker runs: a started one stays sending). */
async function campaignIn(status: 'draft' | 'sending' | 'paused', slug: string): Promise<number> {
  const markdown = SAMPLE_MARKDOWN.replace('slug: 2026-11-26-week-48', `slug: ${slug}`);
  const created = await h.api('POST', '/api/campaigns', { token: h.tokens.editor, body: { markdown, list: 'default' } });
  expect(created.status, created.text).toBe(201);
  const id = (created.json.campaign as { id: number }).id;
  if (status !== 'draft') expect((await h.api('POST', `/api/campaigns/${id}/send`, { token: h.tokens.editor, body: {} })).status).toBe(202);
  if (status === 'paused') expect((await h.api('POST', `/api/campaigns/${id}/pause`, { token: h.tokens.editor })).status).toBe(200);
  return id;
}

const statusOf = async (id: number) => (await h.api('GET', `/api/campaigns/${id}`, { token: h.tokens.admin })).json.status;

/** Every `<form method="post">` of a page, as its opening tag and contents. */
function postForms(body: string): string[] {
  return [...body.matchAll(/<form method="post"[\s\S]*?<\/form>/g)].map((m) => m[0]);
}

/** Every form of a page whatever its attributes' order or case, split by whether it changes state (not GET). */
function formsByMethod(body: string): { changing: string[]; get: string[] } {
  const forms = [...body.matchAll(/<form\b[^>]*>[\s\S]*?<\/form>/gi)].map((m) => m[0]);
  expect(forms.length, 'a <form> without its </form>').toBe((body.match(/<form\b/gi) ?? []).length);
  const method = (f: string) => (/^<form\b[^>]*\smethod="?([a-z]+)/i.exec(f)?.[1] ?? 'get').toLowerCase();
  return { changing: forms.filter((f) => method(f) !== 'get'), get: forms.filter((f) => method(f) === 'get') };
}

describe('the dashboard for an editor token', () => {
  it('logs in, and the session says who and which role', async () => {
    const res = await dashboardLogin(h.app, h.tokens.editor);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/admin');
    const page = await editor.get('/admin');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('test editor (editor)');
    // Links to admin-only pages are not shown; the admin sees them.
    expect(page.body).not.toContain('href="/admin/tokens"');
    expect(page.body).not.toContain('href="/admin/queues"');
    const adminPage = await admin.get('/admin');
    expect(adminPage.body).toContain('href="/admin/tokens"');
    expect(adminPage.body).toContain('href="/admin/queues"');
  });

  it('shows campaigns and stats, offers pause but not resume or cancel', async () => {
    const sending = await campaignIn('sending', 'roles-sending');
    const page = await editor.get(`/admin/campaigns/${sending}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-stat="total"');
    expect(page.body).toContain('data-action="pause"');
    expect(page.body).not.toContain('data-action="resume"');
    expect(page.body).not.toContain('data-action="cancel"');
    const live = await h.app.inject({ method: 'GET', url: `/admin/campaigns/${sending}/live.json`, headers: { cookie: editor.cookie } });
    expect(live.json().actions).toEqual({ send: false, unschedule: false, pause: true, resume: false, cancel: false });
    const asAdmin = await admin.get(`/admin/campaigns/${sending}`);
    expect(asAdmin.body).toContain('data-action="cancel"');
    expect(asAdmin.body).toContain('data-action="resume"'); // rendered, hidden until paused
  });

  it('may send, schedule and pause from the dashboard', async () => {
    const draft = await campaignIn('draft', 'roles-editor-sends');
    const at = new Date(Date.now() + 3_600_000).toISOString().slice(0, 19);
    const scheduled = await editor.post(`/admin/campaigns/${draft}/send`, { at });
    expect(scheduled.statusCode, scheduled.body).toBe(303);
    expect(scheduled.headers.location).toBe(`/admin/campaigns/${draft}?done=schedule`);
    const view = (await h.api('GET', `/api/campaigns/${draft}`, { token: h.tokens.editor })).json;
    expect(view).toMatchObject({ status: 'scheduled', scheduled_at: `${at}.000Z` });
    expect((await editor.post(`/admin/campaigns/${draft}/send`)).headers.location).toBe(`/admin/campaigns/${draft}?done=send`);
    expect(await statusOf(draft)).toBe('sending');
    expect((await editor.post(`/admin/campaigns/${draft}/pause`)).headers.location).toBe(`/admin/campaigns/${draft}?done=pause`);
    expect(await statusOf(draft)).toBe('paused');
  });

  it('sends with a canary share from the send form (issue 14); a bad share is refused naming the field', async () => {
    const draft = await campaignIn('draft', 'roles-editor-canary');
    const page = await editor.get(`/admin/campaigns/${draft}`);
    expect(page.body).toMatch(/<form method="post" action="\/admin\/campaigns\/\d+\/send"[\s\S]*name="canary"[\s\S]*<\/form>/);
    const bad = await editor.post(`/admin/campaigns/${draft}/send`, { canary: '200%' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('canary');
    expect(await statusOf(draft)).toBe('draft');
    const sent = await editor.post(`/admin/campaigns/${draft}/send`, { canary: '50%' });
    expect(sent.headers.location).toBe(`/admin/campaigns/${draft}?done=send`);
    const stats = (await h.api('GET', `/api/campaigns/${draft}/stats`, { token: h.tokens.editor })).json;
    expect(stats).toMatchObject({ status: 'sending', canary: { percent: 50, phase: 'selecting' } });
    expect((await editor.get(`/admin/campaigns/${draft}`)).body).toMatch(/class="canary"[^>]*>canary 50% \(1 recipient\(s\)\): choosing the wave/);
  });

  it('gets 403 on resume, cancel, erase and tokens, from the page and by a forged POST with its valid CSRF token; an admin session can do them', async () => {
    const paused = await campaignIn('paused', 'roles-paused');
    const draft = await campaignIn('draft', 'roles-draft');

    // The pages: tokens and bull-board refused; no erase button on the subscribers page.
    for (const url of ['/admin/tokens', '/admin/queues', '/admin/queues/api/queues']) {
      const res = await editor.get(url);
      expect(res.statusCode, url).toBe(403);
      expect(res.body, url).toMatch(/admin role/);
    }
    const people = await editor.get(`/admin/subscribers?q=${encodeURIComponent(READER)}`);
    expect(people.statusCode).toBe(200);
    expect(people.body).toContain(READER);
    expect(people.body).not.toContain('data-action="erase"');

    // Forged POSTs: the editor's own session and valid CSRF token, straight to the server.
    const forged = [
      await editor.post(`/admin/campaigns/${paused}/resume`),
      await editor.post(`/admin/campaigns/${draft}/cancel`),
      await editor.post('/admin/subscribers/erase', { email: READER }),
    ];
    for (const res of forged) {
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json().error).toMatch(/needs the admin role/);
    }
    expect(await statusOf(paused)).toBe('paused');
    expect(await statusOf(draft)).toBe('draft');
    expect((await h.api('GET', `/api/subscribers/${encodeURIComponent(READER)}`, { token: h.tokens.admin })).status).toBe(200);

    // The admin session does all of it.
    expect((await admin.get('/admin/tokens')).statusCode).toBe(200);
    expect((await admin.get('/admin/queues/api/queues')).statusCode).toBe(200);
    const adminPeople = await admin.get(`/admin/subscribers?q=${encodeURIComponent(READER)}`);
    expect(adminPeople.body).toContain('data-action="erase"');
    expect((await admin.post(`/admin/campaigns/${paused}/resume`)).headers.location).toBe(`/admin/campaigns/${paused}?done=resume`);
    expect(await statusOf(paused)).toBe('sending');
    expect((await admin.post(`/admin/campaigns/${draft}/cancel`)).headers.location).toBe(`/admin/campaigns/${draft}?done=cancel`);
    expect(await statusOf(draft)).toBe('cancelled');
    const erased = await admin.post('/admin/subscribers/erase', { email: READER });
    expect(erased.headers.location).toBe('/admin/subscribers?done=erase');
    expect((await h.api('GET', `/api/subscribers/${encodeURIComponent(READER)}`, { token: h.tokens.admin })).status).toBe(404);
  });

  it('a POST without the CSRF token is refused for either role', async () => {
    const draft = await campaignIn('draft', 'roles-no-csrf');
    for (const s of [editor, admin]) {
      const res = await h.app.inject({
        method: 'POST',
        url: `/admin/campaigns/${draft}/send`,
        headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: '',
      });
      expect(res.statusCode).toBe(403);
    }
    expect(await statusOf(draft)).toBe('draft');
  });

  it('every form on every page carries the CSRF token', async () => {
    await h.api('POST', '/api/subscribers', { token: h.tokens.admin, body: { email: 'forms@example.com', list: 'default' } });
    const draft = await campaignIn('draft', 'roles-forms');
    const sending = await campaignIn('sending', 'roles-forms-sending');
    const scheduled = await campaignIn('draft', 'roles-forms-scheduled');
    expect((await editor.post(`/admin/campaigns/${scheduled}/send`, { at: new Date(Date.now() + 3_600_000).toISOString() })).statusCode).toBe(303);
    const actions = new Set<string>();
    for (const s of [editor, admin]) {
      const pages = [
        '/admin',
        `/admin/campaigns/${draft}`,
        `/admin/campaigns/${sending}`,
        `/admin/campaigns/${scheduled}`,
        '/admin/campaigns/new',
        `/admin/campaigns/${draft}/edit`,
        `/admin/campaigns/${scheduled}/edit`,
        '/admin/subscribers?q=forms%40example.com',
      ];
      if (s === admin) pages.push('/admin/tokens');
      for (const url of pages) {
        const page = await s.get(url);
        expect(page.statusCode, url).toBe(200);
        // Every form, however written: each one that is not a GET carries the session's token.
        const { changing, get } = formsByMethod(page.body);
        for (const form of changing) {
          actions.add(/action="([^"]*)"/.exec(form)![1]!.replace(/\d+/g, 'ID'));
          expect(form, `${url}: ${form}`).toContain(`<input type="hidden" name="_csrf" value="${s.csrf}">`);
        }
        // The one GET form (the subscriber search) changes nothing and carries no token.
        for (const form of get) expect(form, url).toMatch(/action="\/admin\/subscribers"/);
      }
    }
    // The check above saw each state-changing form of the dashboard.
    expect([...actions].sort()).toEqual(
      [
        '/admin/logout',
        '/admin/campaigns/new',
        '/admin/campaigns/ID/edit',
        '/admin/campaigns/ID/test',
        '/admin/campaigns/ID/send',
        '/admin/campaigns/ID/unschedule',
        '/admin/campaigns/ID/pause',
        '/admin/campaigns/ID/resume',
        '/admin/campaigns/ID/cancel',
        '/admin/subscribers/erase',
      ].sort(),
    );
    const login = await h.app.inject({ method: 'GET', url: '/admin/login' });
    expect(postForms(login.body)).toHaveLength(1);
    expect(postForms(login.body)[0]).toMatch(/<input type="hidden" name="_csrf" value="[A-Za-z0-9_-]{32}">/);
  });
});
