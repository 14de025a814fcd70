/**
 * Issue 13, the editor's workspace over HTTP (real server, SQLite, Redis, SES simulator):
 * the compose page and its CSRF-protected forms, drafts saved (even with preflight errors)
 * and edited through the orchestrator with activity entries, send and schedule refused on
 * the server while errors remain, the preview endpoint (diagnostics with lines, a reader's
 * personalised copy, a preview document that may not run scripts), test sends to the
 * address on the token, and a schedule moved and called off (back to draft).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSurfaceHarness, SAMPLE_MARKDOWN, type SurfaceHarness } from '../support/surface-harness.js';
import { dashboardSession, type DashboardSession } from '../support/dashboard-session.js';
import { waitFor } from '../support/wait.js';

let h: SurfaceHarness;
let editor: DashboardSession;
const READER = 'reader.ws@example.com';
const EDITOR_EMAIL = 'editor.ws@example.com';

/** SAMPLE_MARKDOWN with its own slug and an empty link planted on line 11. */
function issue(slug: string, brokenLink = true): string {
  const md = SAMPLE_MARKDOWN.replace('slug: 2026-11-26-week-48', `slug: ${slug}`);
  return brokenLink ? md.replace('The [planning document](https://docs.example.org/plan)', 'The [planning document]()') : md;
}

const activity = async (id: number) =>
  ((await h.api('GET', `/api/campaigns/${id}/activity`, { token: h.tokens.admin })).json.items as Array<{ action: string; actor: { name: string }; detail: string | null }>).map((e) => [e.action, e.actor.name, e.detail]);
const statusOf = async (id: number) => (await h.api('GET', `/api/campaigns/${id}`, { token: h.tokens.admin })).json.status;

async function preview(fields: Record<string, unknown>) {
  const res = await h.app.inject({
    method: 'POST',
    url: '/admin/workspace/preview',
    headers: { cookie: editor.cookie, 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': editor.csrf },
    payload: JSON.stringify({ list: 'default', slot: 'test-slot-0123456789', ...fields }),
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function saveNew(markdown: string): Promise<number> {
  const res = await editor.post('/admin/campaigns/new', { markdown, list: 'default', subject: '' });
  expect(res.statusCode, res.body).toBe(303);
  const m = /^\/admin\/campaigns\/(\d+)\/edit\?done=created$/.exec(String(res.headers.location));
  expect(m).not.toBeNull();
  return Number(m![1]);
}

beforeAll(async () => {
  h = await createSurfaceHarness();
  const token = await h.ctx.tokens.create('editor', 'ws editor', { email: EDITOR_EMAIL });
  editor = await dashboardSession(h.app, token.token);
  expect((await h.api('POST', '/api/subscribers', { token: h.tokens.admin, body: { email: READER, name: 'Rea Der', list: 'default' } })).status).toBe(201);
});
afterAll(async () => {
  await h?.close();
});

describe('the compose page', () => {
  it('has the Markdown textarea, the file upload, the list and subject, and CSRF on its forms', async () => {
    const page = await editor.get('/admin/campaigns/new');
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/<textarea[^>]*name="markdown"/);
    expect(page.body).toMatch(/<input type="file"/);
    expect(page.body).toMatch(/<select name="list"[^>]*>.*<option value="default" selected>/s);
    expect(page.body).toContain('name="subject"');
    for (const form of page.body.match(/<form method="post"[\s\S]*?<\/form>/g)!) expect(form).toContain(`name="_csrf" value="${editor.csrf}"`);
    // The dashboard's own policy: scripts only from itself, frames only from itself.
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-src 'self'");
    expect(page.body).toMatch(/<iframe[^>]*width="600"[^>]*sandbox=""/);
    expect(page.body).toMatch(/<iframe[^>]*width="375"[^>]*sandbox=""/);
  });

  it('refuses a save without the CSRF token, and saves nothing', async () => {
    const before = (await h.api('GET', '/api/campaigns', { token: h.tokens.admin })).json.items as unknown[];
    const res = await editor.post('/admin/campaigns/new', { _csrf: '', markdown: issue('ws-csrf'), list: 'default' });
    expect(res.statusCode).toBe(403);
    const forged = await h.app.inject({
      method: 'POST',
      url: '/admin/campaigns/new',
      headers: { cookie: editor.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ markdown: issue('ws-csrf'), list: 'default' }).toString(),
    });
    expect(forged.statusCode).toBe(403);
    const preview = await h.app.inject({ method: 'POST', url: '/admin/workspace/preview', headers: { cookie: editor.cookie, 'content-type': 'application/json' }, payload: '{"markdown":"x"}' });
    expect(preview.statusCode).toBe(403);
    expect(((await h.api('GET', '/api/campaigns', { token: h.tokens.admin })).json.items as unknown[]).length).toBe(before.length);
  });
});

describe('drafts', () => {
  it('are saved with preflight errors, cannot be sent or scheduled until fixed, and every save is in the activity log', async () => {
    const id = await saveNew(issue('ws-draft'));
    expect(await statusOf(id)).toBe('draft');
    const page = await editor.get(`/admin/campaigns/${id}/edit`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-unsendable');
    expect(page.body).toContain('The [planning document]()');

    // Send and schedule are refused by the server, from the page and from the API.
    const send = await editor.post(`/admin/campaigns/${id}/send`, { at: '' });
    expect(send.statusCode).toBe(303);
    expect(send.headers.location).toBe(`/admin/campaigns/${id}?err=preflight`);
    expect((await editor.get(String(send.headers.location))).body).toContain('preflight errors: fix them in the workspace');
    const scheduled = await h.api('POST', `/api/campaigns/${id}/send`, { token: h.tokens.editor, body: { at: new Date(Date.now() + 3_600_000).toISOString() } });
    expect(scheduled.status).toBe(409);
    expect(scheduled.json.error).toMatch(/preflight errors/);
    const test = await editor.post(`/admin/campaigns/${id}/test`, { to: EDITOR_EMAIL });
    expect(test.statusCode).toBe(409);
    expect(await statusOf(id)).toBe('draft');

    // Fixed in the workspace: an edit through the orchestrator, then it may be scheduled.
    const fixed = await editor.post(`/admin/campaigns/${id}/edit`, { markdown: issue('ws-draft', false), subject: 'Harbor, week 48' });
    expect(fixed.statusCode, fixed.body).toBe(303);
    const reopened = await editor.get(`/admin/campaigns/${id}/edit`);
    expect(reopened.body).not.toContain('data-unsendable');
    expect(reopened.body).toContain('value="Harbor, week 48"'); // the override, reopened
    expect((await h.api('GET', `/api/campaigns/${id}`, { token: h.tokens.admin })).json.subject).toBe('Harbor, week 48');
    const at = new Date(Date.now() + 3_600_000);
    expect((await editor.post(`/admin/campaigns/${id}/send`, { at: at.toISOString() })).headers.location).toBe(`/admin/campaigns/${id}?done=schedule`);
    expect(await statusOf(id)).toBe('scheduled');
    // Every form of the reopened workspace (save, test, schedule, unschedule, log out) carries the CSRF token.
    const forms = (await editor.get(`/admin/campaigns/${id}/edit`)).body.match(/<form method="post"[\s\S]*?<\/form>/g)!;
    expect(forms.map((f) => /action="([^"]+)"/.exec(f)![1])).toEqual(['/admin/logout', `/admin/campaigns/${id}/edit`, `/admin/campaigns/${id}/test`, `/admin/campaigns/${id}/send`, `/admin/campaigns/${id}/unschedule`]);
    for (const form of forms) expect(form).toContain(`name="_csrf" value="${editor.csrf}"`);
    for (const action of ['edit', 'test', 'send', 'unschedule']) {
      const forged = await editor.post(`/admin/campaigns/${id}/${action}`, { _csrf: 'forged', markdown: issue('ws-draft'), to: EDITOR_EMAIL, at: '' });
      expect(forged.statusCode, action).toBe(403);
    }
    expect(await statusOf(id)).toBe('scheduled');

    // A scheduled one: edits that bring errors back are refused; it can be moved and called off.
    const broken = await editor.post(`/admin/campaigns/${id}/edit`, { markdown: issue('ws-draft'), subject: '' });
    expect(broken.statusCode).toBe(409);
    expect(broken.body).toContain('unschedule it first');
    const moved = new Date(at.getTime() + 600_000);
    expect((await editor.post(`/admin/campaigns/${id}/send`, { at: moved.toISOString() })).statusCode).toBe(303);
    expect((await h.api('GET', `/api/campaigns/${id}`, { token: h.tokens.admin })).json.scheduled_at).toBe(moved.toISOString());
    const off = await editor.post(`/admin/campaigns/${id}/unschedule`);
    expect(off.headers.location).toBe(`/admin/campaigns/${id}?done=unschedule`);
    expect(await statusOf(id)).toBe('draft');
    expect((await editor.get(`/admin/campaigns/${id}/edit`)).statusCode).toBe(200); // editable again

    expect(await activity(id)).toEqual([
      ['created', 'ws editor', null],
      ['edited', 'ws editor', 'in the workspace'],
      ['scheduled', 'ws editor', `for ${at.toISOString()}`],
      ['scheduled', 'ws editor', `moved to ${moved.toISOString()}`],
      ['unscheduled', 'ws editor', `was due ${moved.toISOString()}`],
    ]);
  });

  it('a local schedule time without its zone (no page script) is refused, not sent now', async () => {
    const id = await saveNew(issue('ws-no-zone', false));
    const res = await editor.post(`/admin/campaigns/${id}/send`, { at: '', at_local: '2030-01-01T09:00' });
    expect(res.statusCode).toBe(400);
    expect(await statusOf(id)).toBe('draft');
  });
});

describe('the preview endpoint', () => {
  it('lists check diagnostics with their lines and serves the reader copy as a script-free document', async () => {
    const md = `${issue('ws-preview')}\n<script>window.parent.pwned = 1</script>\n\n[click](javascript:alert(1))\n`;
    const data = await preview({ markdown: md });
    const lines = md.split('\n');
    const empty = data.diagnostics.find((d: { message: string }) => d.message.startsWith('empty link'));
    expect(empty).toMatchObject({ severity: 'error' });
    expect(lines[empty.line - 1]).toContain('[planning document]()');
    expect(data.errors).toBeGreaterThan(0);
    expect(data.subject).toBe('Harbor Notes: Week 48');
    expect(data.templateSubject).toBe('Harbor Notes: Week 48');
    expect(data.preheader.length).toBeGreaterThan(0);
    expect(data.clipBytes).toBe(102 * 1024);
    expect(data.htmlBytes).toBeGreaterThan(1000);
    expect(data.messageBytes).toBeGreaterThan(data.htmlBytes);
    expect(data.text).toContain('Release Schedule');
    expect(data.reader).toMatchObject({ sample: true });

    const doc = await h.app.inject({ method: 'GET', url: data.document, headers: { cookie: editor.cookie } });
    expect(doc.statusCode).toBe(200);
    const csp = String(doc.headers['content-security-policy']);
    expect(csp).toMatch(/(^|; )sandbox(;|$)/);
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/script-src/);
    expect(doc.body).toContain('Developer News');
    expect(doc.body).not.toMatch(/<script>window\.parent/);
    // Without a session the document is not served; another session does not get it.
    expect((await h.app.inject({ method: 'GET', url: data.document })).statusCode).toBe(401);
    const other = await dashboardSession(h.app, h.tokens.editor);
    expect((await h.app.inject({ method: 'GET', url: data.document, headers: { cookie: other.cookie } })).statusCode).toBe(404);
    // The page's next preview replaces it (one document per page, not one per keystroke).
    const next = await preview({ markdown: issue('ws-preview-2', false) });
    const again = await h.app.inject({ method: 'GET', url: data.document, headers: { cookie: editor.cookie } });
    expect(next.document).not.toBe(data.document);
    expect(again.body).toBe((await h.app.inject({ method: 'GET', url: next.document, headers: { cookie: editor.cookie } })).body);
    expect(again.body).not.toContain('[planning document]');
  });

  it('personalises for a chosen subscriber of the list (their real unsubscribe link), else a sample reader', async () => {
    const mine = await preview({ markdown: issue('ws-reader', false), as: READER });
    expect(mine.reader).toEqual({ email: READER, name: 'Rea Der', sample: false, note: null });
    expect(mine.text).toMatch(/http:\/\/127\.0\.0\.1:3000\/u\/[A-Za-z0-9_.-]{20,}/);
    expect(mine.errors).toBe(0);
    const stranger = await preview({ markdown: issue('ws-reader', false), as: 'nobody@example.com' });
    expect(stranger.reader).toMatchObject({ email: 'nobody@example.com', sample: true });
    expect(stranger.reader.note).toMatch(/not a subscriber/);
  });
});

describe('test sends from the workspace', () => {
  it('go to the address on the token by default, once, marked as a test, and are in the activity', async () => {
    const id = await saveNew(issue('ws-test', false));
    const page = await editor.get(`/admin/campaigns/${id}/edit`);
    expect(page.body).toMatch(new RegExp(`name="to" value="${EDITOR_EMAIL.replace('.', '\\.')}"`));
    const before = h.sim.messages.length;
    const res = await editor.post(`/admin/campaigns/${id}/test`, { to: EDITOR_EMAIL });
    expect(res.statusCode, res.body).toBe(303);
    expect(res.headers.location).toBe(`/admin/campaigns/${id}/edit?done=test`);
    const sent = h.sim.messages.slice(before);
    expect(sent.map((m) => m.destinations)).toEqual([[EDITOR_EMAIL]]);
    expect(sent[0]!.raw.toString('latin1')).toMatch(/^X-Newsletter-Test: 1\r\n/);
    expect((await activity(id)).at(-1)).toEqual(['tested', 'ws editor', `to ${EDITOR_EMAIL}`]);
    const bad = await editor.post(`/admin/campaigns/${id}/test`, { to: 'not an address' });
    expect(bad.statusCode).toBe(400);
  });

  it('the edit page states audience, rate and duration for the confirmation', async () => {
    const id = await saveNew(issue('ws-estimate', false));
    const page = await editor.get(`/admin/campaigns/${id}/edit`);
    // One subscriber on the list (READER), SEND_RATE 200.
    expect(page.body).toContain('data-estimate="1 subscriber at 200/s ≈ 1 s"');
    // The send dialog offers the canary wave (issue 14) on the form that posts the send.
    expect(page.body).toMatch(/<form method="post" action="\/admin\/campaigns\/\d+\/send"[^>]*data-schedule-form[\s\S]*?name="canary"[\s\S]*?<\/form>/);
  });

  it('an audience count over 30 s old is shown at once with when it was taken, and recounted behind the page (migration 0021)', async () => {
    const id = await saveNew(issue('ws-estimate-stale', false));
    const list = await h.ctx.store.db.selectFrom('lists').select('id').where('name', '=', 'default').executeTakeFirstOrThrow();
    const countedAt = Date.now() - 120_000;
    await h.ctx.store.db
      .insertInto('list_audience_sizes')
      .values({ list_id: list.id, n: 2431, counted_at: countedAt })
      .onConflict((oc) => oc.column('list_id').doUpdateSet({ n: 2431, counted_at: countedAt }))
      .execute();
    const stale = await editor.get(`/admin/campaigns/${id}/edit`);
    expect(stale.body).toContain('data-estimate="2,431 subscribers at 200/s ≈ 13 s"');
    expect(stale.body).toContain(`(audience counted ${new Date(countedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC)`);
    // The page did not wait for the count; the next views get it (one subscriber: READER).
    await waitFor('the recounted audience', async () => (await editor.get(`/admin/campaigns/${id}/edit`)).body.includes('data-estimate="1 subscriber at 200/s ≈ 1 s"'), 10_000);
    expect((await editor.get(`/admin/campaigns/${id}/edit`)).body).not.toContain('data-estimate-counted');
  });
});
