/**
 * /api against the real server: auth on every route (401 missing/wrong token, 403 editor
 * on admin routes), zod validation (400 naming the field), JSON errors, the generated
 * OpenAPI document, and an editor running a whole send through the API alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSurfaceHarness, SAMPLE_MARKDOWN, waitFor, type SurfaceHarness } from '../support/surface-harness.js';

let h: SurfaceHarness;

beforeAll(async () => {
  // ISSUES_DIR: the repository, so `path: examples/….md` names a real issue file.
  h = await createSurfaceHarness({ sendRate: 200, env: { ISSUES_DIR: process.cwd() } });
});
afterAll(async () => {
  await h?.close();
});

interface RouteCase {
  method: string;
  path: string;
  role: 'editor' | 'admin';
  body?: unknown;
}

const ROUTES: RouteCase[] = [
  { method: 'GET', path: '/api/campaigns', role: 'editor' },
  { method: 'POST', path: '/api/campaigns', role: 'editor', body: { markdown: SAMPLE_MARKDOWN, list: 'default' } },
  { method: 'GET', path: '/api/campaigns/999', role: 'editor' },
  { method: 'GET', path: '/api/campaigns/999/preview', role: 'editor' },
  { method: 'POST', path: '/api/campaigns/999/test', role: 'editor', body: { to: 'success@simulator.amazonses.com' } },
  { method: 'POST', path: '/api/campaigns/999/send', role: 'editor', body: {} },
  { method: 'POST', path: '/api/campaigns/999/pause', role: 'editor' },
  { method: 'POST', path: '/api/campaigns/999/unschedule', role: 'editor' },
  { method: 'POST', path: '/api/campaigns/999/resume', role: 'admin' },
  { method: 'POST', path: '/api/campaigns/999/cancel', role: 'admin' },
  { method: 'GET', path: '/api/campaigns/999/stats', role: 'editor' },
  { method: 'GET', path: '/api/campaigns/999/activity', role: 'editor' },
  { method: 'GET', path: '/api/subscribers', role: 'editor' },
  { method: 'POST', path: '/api/subscribers', role: 'editor', body: { email: 'auth-check@example.com' } },
  { method: 'POST', path: '/api/subscribers/import', role: 'editor' },
  { method: 'GET', path: '/api/subscribers/nobody%40example.com', role: 'editor' },
  { method: 'POST', path: '/api/subscribers/nobody%40example.com/unsubscribe', role: 'editor', body: {} },
  { method: 'DELETE', path: '/api/subscribers/nobody%40example.com', role: 'admin' },
];

describe('authentication and roles', () => {
  it('every /api route in the OpenAPI document is covered by this table', async () => {
    const { json } = await h.api('GET', '/api/openapi.json', { token: h.tokens.editor });
    const documented = Object.entries(json.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const covered = ROUTES.map((r) => `${r.method} ${r.path.replace(/\/999/, '/{id}').replace(/nobody%40example\.com/, '{email}')}`);
    expect(documented.sort()).toEqual([...new Set(covered)].sort());
  });

  for (const r of ROUTES) {
    it(`${r.method} ${r.path}: 401 without a token, 401 with a wrong one${r.role === 'admin' ? ', 403 for an editor' : ''}`, async () => {
      const none = await h.api(r.method, r.path, { body: r.body });
      expect(none.status).toBe(401);
      expect(none.json.error).toMatch(/token/);
      const wrong = await h.api(r.method, r.path, { body: r.body, token: 'nlt_' + 'x'.repeat(43) });
      expect(wrong.status).toBe(401);
      const malformed = await h.api(r.method, r.path, { body: r.body, headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } });
      expect(malformed.status).toBe(401);
      const editor = await h.api(r.method, r.path, { body: r.body, token: h.tokens.editor });
      if (r.role === 'admin') {
        expect(editor.status).toBe(403);
        expect(editor.json.error).toMatch(/admin/);
      } else {
        expect([401, 403]).not.toContain(editor.status);
      }
      const admin = await h.api(r.method, r.path, { body: r.body, token: h.tokens.admin });
      expect([401, 403]).not.toContain(admin.status);
    });
  }
});

describe('validation: 400 with the field named', () => {
  const cases: { name: string; method: string; path: string; body?: unknown; raw?: string; field: string }[] = [
    { name: 'campaign without markdown or path', method: 'POST', path: '/api/campaigns', body: { list: 'default' }, field: 'markdown' },
    { name: 'campaign with both markdown and path', method: 'POST', path: '/api/campaigns', body: { markdown: '# x', path: 'a.md' }, field: 'markdown' },
    { name: 'markdown of the wrong type', method: 'POST', path: '/api/campaigns', body: { markdown: 42 }, field: 'markdown' },
    { name: 'bad list name', method: 'POST', path: '/api/campaigns', body: { markdown: '# x', list: 'no spaces allowed' }, field: 'list' },
    { name: 'two-line subject', method: 'POST', path: '/api/campaigns', body: { markdown: '# x', subject: 'a\r\nBcc: victim@example.com' }, field: 'subject' },
    { name: 'path outside the issues dir', method: 'POST', path: '/api/campaigns', body: { path: '../../etc/passwd.md' }, field: 'path' },
    { name: 'missing JSON body', method: 'POST', path: '/api/subscribers', field: 'body' },
    { name: 'malformed JSON', method: 'POST', path: '/api/subscribers', raw: '{"email":', field: 'body' },
    { name: 'bad email', method: 'POST', path: '/api/subscribers', body: { email: 'not-an-address' }, field: 'email' },
    { name: 'name with CRLF', method: 'POST', path: '/api/subscribers', body: { email: 'a@example.com', name: 'A\r\nB' }, field: 'name' },
    { name: 'non-numeric id', method: 'GET', path: '/api/campaigns/abc/stats', field: 'id' },
    { name: 'limit out of range', method: 'GET', path: '/api/subscribers?limit=0', field: 'limit' },
    { name: 'unknown status filter', method: 'GET', path: '/api/subscribers?status=zombie', field: 'status' },
    { name: 'send at a non-ISO time', method: 'POST', path: '/api/campaigns/1/send', body: { at: 'tomorrow' }, field: 'at' },
    { name: 'test send to nobody', method: 'POST', path: '/api/campaigns/1/test', body: { to: [] }, field: 'to' },
    { name: 'test send to a bad address', method: 'POST', path: '/api/campaigns/1/test', body: { to: ['x@'] }, field: 'to.0' },
    { name: 'import without multipart', method: 'POST', path: '/api/subscribers/import', body: { file: 'email\na@example.com' }, field: 'file' },
    { name: 'markdown that is not an issue', method: 'POST', path: '/api/campaigns', body: { markdown: 'no front matter here', list: 'default' }, field: 'markdown' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const res = await h.api(c.method, c.path, { token: h.tokens.editor, body: c.raw ?? c.body });
      expect(res.status, res.text).toBe(400);
      expect(res.json.field).toBe(c.field);
      expect(typeof res.json.error).toBe('string');
    });
  }

  it('unknown routes and records answer JSON errors', async () => {
    const missing = await h.api('GET', '/api/nothing-here', { token: h.tokens.editor });
    expect(missing.status).toBe(404);
    expect(missing.json.error).toBeTruthy();
    const noCampaign = await h.api('GET', '/api/campaigns/424242/stats', { token: h.tokens.editor });
    expect(noCampaign.status).toBe(404);
    expect(noCampaign.json.error).toMatch(/campaign 424242/);
  });
});

describe('missing campaigns and CSV files that are not UTF-8 text (issue 17)', () => {
  it('pause, resume and cancel of a missing campaign answer 404 naming it', async () => {
    for (const action of ['pause', 'resume', 'cancel']) {
      const res = await h.api('POST', `/api/campaigns/424242/${action}`, { token: h.tokens.admin });
      expect(res.status, `${action}: ${res.text}`).toBe(404);
      expect(res.json.error).toMatch(/campaign 424242 not found/);
    }
  });

  async function upload(bytes: Buffer, name: string, query: string): Promise<{ status: number; json: Record<string, unknown> }> {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(bytes)], { type: 'text/csv' }), name);
    const res = await fetch(`${h.base}/api/subscribers/import?${query}`, { method: 'POST', headers: { authorization: `Bearer ${h.tokens.editor}` }, body: form });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  it('refuses Latin-1 (400 naming file and line, no list created) unless encoding=latin1; refuses binary without echoing it', async () => {
    const latin1 = Buffer.from('email,name\nmarie@example.com,Marie\nchloe@example.com,Chloé\n', 'latin1');
    const refused = await upload(latin1, 'people.csv', 'list=api-latin');
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatch(/^people\.csv:3: not valid UTF-8 \(byte 0xE9\)/);
    expect(await h.store.db.selectFrom('lists').select('id').where('name', '=', 'api-latin').executeTakeFirst()).toBeUndefined();

    const converted = await upload(latin1, 'people.csv', 'list=api-latin&encoding=latin1');
    expect(converted.status).toBe(200);
    expect(converted.json).toMatchObject({ imported: 2, bad: 0, errors: [] });
    expect((await h.api('GET', '/api/subscribers/chloe%40example.com', { token: h.tokens.editor })).json.name).toBe('Chloé');

    const binary = await upload(Buffer.concat([Buffer.from('email\n'), Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80])]), 'x.bin', 'list=api-binary');
    expect(binary.status).toBe(400);
    expect(binary.json.error).toBe('x.bin:2: binary data (a NUL byte), not a CSV text file');
    expect(await h.store.db.selectFrom('lists').select('id').where('name', '=', 'api-binary').executeTakeFirst()).toBeUndefined();
  });
});

describe('OpenAPI document', () => {
  it('is generated from the route schemas', async () => {
    const { status, json } = await h.api('GET', '/api/openapi.json', { token: h.tokens.editor });
    expect(status).toBe(200);
    expect(json.openapi).toMatch(/^3\./);
    const paths = json.paths as Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { required?: string[]; properties?: Record<string, unknown> } }> }; security?: unknown[] }>>;
    const add = paths['/api/subscribers']!.post!;
    expect(add.requestBody!.content['application/json']!.schema.required).toContain('email');
    expect(add.security).toEqual([{ bearerAuth: [] }]);
    const create = paths['/api/campaigns']!.post!.requestBody!.content['application/json']!.schema;
    expect(Object.keys(create.properties!)).toEqual(expect.arrayContaining(['markdown', 'path', 'list', 'subject']));
    // Nothing outside /api leaks into the API document.
    expect(Object.keys(paths).every((p) => p.startsWith('/api/'))).toBe(true);
    // Browsable behind the dashboard login at /admin/api-docs (test/http/admin-guards.test.ts).
  });
});

describe('an editor runs a whole send through the API alone', () => {
  it('adds subscribers, imports a CSV, creates, previews, test-sends, sends and reads stats', async () => {
    await h.startWorker();
    const token = h.tokens.editor;
    const list = 'editor-run';
    for (const email of ['success+a@simulator.amazonses.com', 'success+b@simulator.amazonses.com']) {
      const added = await h.api('POST', '/api/subscribers', { token, body: { email, name: 'Reader <b>A</b>', list } });
      expect(added.status, added.text).toBe(201);
    }
    const csv = ['email,name', ...Array.from({ length: 20 }, (_, i) => `success+csv${i}@simulator.amazonses.com,CSV ${i}`), 'bounce@simulator.amazonses.com,Bouncy'].join('\n');
    const form = new FormData();
    form.append('file', new Blob([csv], { type: 'text/csv' }), 'list.csv');
    const imported = await fetch(`${h.base}/api/subscribers/import?list=${list}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    const report = (await imported.json()) as { imported: number; errors: unknown[] };
    expect(imported.status).toBe(200);
    expect(report.imported).toBe(21);

    const search = await h.api('GET', `/api/subscribers?list=${list}&q=csv1`, { token });
    expect(search.json.total).toBe(11); // csv1, csv10..csv19

    const created = await h.api('POST', '/api/campaigns', { token, body: { markdown: SAMPLE_MARKDOWN, list } });
    expect(created.status, created.text).toBe(201);
    const campaign = created.json.campaign as { id: number; status: string; subject: string };
    expect(campaign.status).toBe('draft');
    expect(campaign.subject).toContain('Harbor Notes');

    const preview = await h.api('GET', `/api/campaigns/${campaign.id}/preview`, { token });
    expect(preview.status).toBe(200);
    expect(preview.text).toContain('Developer News');
    expect(preview.text).toContain('https://docs.example.org/plan');

    const before = h.sim.messages.length;
    const test = await h.api('POST', `/api/campaigns/${campaign.id}/test`, { token, body: { to: 'editor-proof@example.com' } });
    expect(test.status, test.text).toBe(200);
    expect(h.sim.messages.length).toBe(before + 1);
    expect(h.sim.messages.at(-1)!.destinations).toEqual(['editor-proof@example.com']);

    const sent = await h.api('POST', `/api/campaigns/${campaign.id}/send`, { token, body: {} });
    expect(sent.status, sent.text).toBe(202);
    expect(sent.json.status).toBe('sending');

    const stats = await waitFor(
      'campaign sent and events applied',
      async () => {
        const s = (await h.api('GET', `/api/campaigns/${campaign.id}/stats`, { token })).json;
        return s.status === 'sent' && Number(s.delivered) + Number(s.bounced) === 23 ? s : null;
      },
      30_000,
    );
    expect(stats).toMatchObject({ total: 23, sent: 23, delivered: 22, bounced: 1, queued: 0, failed: 0 });
    for (const k of ['complained', 'unsubscribed', 'opened', 'clicked', 'rate_per_s', 'started_at', 'finished_at']) expect(stats).toHaveProperty(k);
    const recipients = h.sim.messages.slice(before + 1).flatMap((m) => m.destinations);
    expect(new Set(recipients).size).toBe(23);

    // Editors may pause but not cancel.
    const cancel = await h.api('POST', `/api/campaigns/${campaign.id}/cancel`, { token });
    expect(cancel.status).toBe(403);
    const listed = await h.api('GET', '/api/campaigns', { token });
    expect((listed.json.items as { id: number }[]).map((c) => c.id)).toContain(campaign.id);
  });

  it('schedules with `at` and refuses a second send', async () => {
    const token = h.tokens.editor;
    // Its own slug: the same issue on the same list is the campaign made before (resubmission.ts).
    const markdown = SAMPLE_MARKDOWN.replace('slug: 2026-11-26-week-48', 'slug: scheduled-one');
    const created = await h.api('POST', '/api/campaigns', { token, body: { markdown, list: 'editor-run', subject: 'Scheduled one' } });
    const id = (created.json.campaign as { id: number }).id;
    const at = new Date(Date.now() + 3600_000).toISOString();
    const scheduled = await h.api('POST', `/api/campaigns/${id}/send`, { token, body: { at } });
    expect(scheduled.status).toBe(202);
    expect(scheduled.json).toMatchObject({ status: 'scheduled', scheduled_at: at, subject: 'Scheduled one' });
    const cancelled = await h.api('POST', `/api/campaigns/${id}/cancel`, { token: h.tokens.admin });
    expect(cancelled.json.status).toBe('cancelled');
    const again = await h.api('POST', `/api/campaigns/${id}/send`, { token, body: {} });
    expect(again.status).toBe(409);
  });

  it('an editor moves a schedule by sending again with a new `at`, and calls it off with unschedule (draft again, in the activity log)', async () => {
    const token = h.tokens.editor;
    const markdown = SAMPLE_MARKDOWN.replace('slug: 2026-11-26-week-48', 'slug: unscheduled-one');
    const created = await h.api('POST', '/api/campaigns', { token, body: { markdown, list: 'editor-run', subject: 'Unscheduled one' } });
    const id = (created.json.campaign as { id: number }).id;
    const first = new Date(Date.now() + 3600_000).toISOString();
    const later = new Date(Date.now() + 7200_000).toISOString();
    expect((await h.api('POST', `/api/campaigns/${id}/send`, { token, body: { at: first } })).json).toMatchObject({ status: 'scheduled', scheduled_at: first });
    expect((await h.api('POST', `/api/campaigns/${id}/send`, { token, body: { at: later } })).json).toMatchObject({ status: 'scheduled', scheduled_at: later });
    const off = await h.api('POST', `/api/campaigns/${id}/unschedule`, { token });
    expect(off.status).toBe(200);
    expect(off.json).toMatchObject({ status: 'draft', scheduled_at: null });
    // Only a scheduled campaign can be called off: a draft answers 409.
    expect((await h.api('POST', `/api/campaigns/${id}/unschedule`, { token })).status).toBe(409);
    const activity = await h.api('GET', `/api/campaigns/${id}/activity`, { token });
    expect((activity.json.items as { action: string }[]).map((a) => a.action)).toContain('unscheduled');
  });

  it('send takes a canary share, also when scheduling with `at`; a bad share is a 400 naming the field', async () => {
    const token = h.tokens.editor;
    const markdown = SAMPLE_MARKDOWN.replace('slug: 2026-11-26-week-48', 'slug: canary-one');
    const created = await h.api('POST', '/api/campaigns', { token, body: { markdown, list: 'editor-run', subject: 'Canary one' } });
    const id = (created.json.campaign as { id: number }).id;
    const bad = await h.api('POST', `/api/campaigns/${id}/send`, { token, body: { canary: '150%' } });
    expect(bad.status, bad.text).toBe(400);
    expect(bad.text).toContain('canary');
    const at = new Date(Date.now() + 3600_000).toISOString();
    const scheduled = await h.api('POST', `/api/campaigns/${id}/send`, { token, body: { at, canary: '10%' } });
    expect(scheduled.status, scheduled.text).toBe(202);
    expect(scheduled.json.status).toBe('scheduled');
    // Sent now without a share: the one chosen with the schedule holds.
    const started = await h.api('POST', `/api/campaigns/${id}/send`, { token, body: {} });
    expect(started.status, started.text).toBe(202);
    const stats = (await h.api('GET', `/api/campaigns/${id}/stats`, { token })).json;
    expect(stats.canary).toMatchObject({ percent: 10, size: Math.ceil(Number(stats.total) / 10) });
    const log = (await h.api('GET', `/api/campaigns/${id}/activity`, { token })).json.items as { action: string; detail: string | null }[];
    expect(log.find((e) => e.action === 'scheduled')!.detail).toContain('canary 10%');
    await h.api('POST', `/api/campaigns/${id}/cancel`, { token: h.tokens.admin });
  });

  it('creates from an issue file on the server, and manages subscribers to the end', async () => {
    const token = h.tokens.editor;
    const fromFile = await h.api('POST', '/api/campaigns', { token, body: { path: 'examples/2026-11-22-harbor-weekly.md', list: 'editor-run' } });
    expect(fromFile.status, fromFile.text).toBe(201);
    expect((fromFile.json.campaign as { title: string }).title).toContain('Tidewater Weekly');
    const missing = await h.api('POST', '/api/campaigns', { token, body: { path: 'examples/nope.md', list: 'editor-run' } });
    expect(missing).toMatchObject({ status: 400, json: { field: 'path' } });

    const email = 'success+leaver@simulator.amazonses.com';
    await h.api('POST', '/api/subscribers', { token, body: { email, name: 'Leaver', list: 'editor-run', attributes: { city: 'Porto' } } });
    const shown = await h.api('GET', `/api/subscribers/${encodeURIComponent(email)}`, { token });
    expect(shown.json).toMatchObject({ email, name: 'Leaver', status: 'active', attributes: { city: 'Porto' } });
    const left = await h.api('POST', `/api/subscribers/${encodeURIComponent(email)}/unsubscribe`, { token, body: { list: 'editor-run' } });
    expect(left.json).toMatchObject({ status: 'unsubscribed', lists: [{ name: 'editor-run', status: 'unsubscribed' }] });
    const removed = await h.api('DELETE', `/api/subscribers/${encodeURIComponent(email)}`, { token: h.tokens.admin });
    expect(removed.status).toBe(204);
    expect((await h.api('GET', `/api/subscribers/${encodeURIComponent(email)}`, { token })).status).toBe(404);
    // The address stays suppressed: adding it again is refused.
    const again = await h.api('POST', '/api/subscribers', { token, body: { email, list: 'editor-run' } });
    expect(again.status).toBe(409);
  });
});
