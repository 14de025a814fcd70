/**
 * Issue 13: each campaign's activity log. Every action — created, edited, tested,
 * scheduled (and moved), started, paused, resumed, cancelled, and the system's own
 * (a schedule firing, the completion) — is recorded with its actor (token name and role,
 * `cli`, `system`) and shown in GET /api/campaigns/:id/activity, on the dashboard's
 * campaign page and by `newsletter campaigns show ID`. Real server, SQLite, Redis, SES
 * simulator, the CLI as a child process, a worker in this process.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSurfaceHarness, SAMPLE_MARKDOWN, waitFor, type SurfaceHarness } from '../support/surface-harness.js';
import { dashboardSession } from '../support/dashboard-session.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

let h: SurfaceHarness;
beforeAll(async () => {
  h = await createSurfaceHarness();
  expect((await h.api('POST', '/api/subscribers', { token: h.tokens.admin, body: { email: 'success+default@simulator.amazonses.com', list: 'default' } })).status).toBe(201);
});
afterAll(async () => {
  await h?.close();
});

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: { ...process.env, ...h.env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

interface Entry {
  action: string;
  actor: { name: string; role: string };
  detail: string | null;
  at: string;
}

async function activity(id: number): Promise<Entry[]> {
  const res = await h.api('GET', `/api/campaigns/${id}/activity`, { token: h.tokens.editor });
  expect(res.status, res.text).toBe(200);
  return res.json.items as Entry[];
}

const issue = (slug: string, extra = '') => SAMPLE_MARKDOWN.replace('slug: 2026-11-26-week-48', `slug: ${slug}`) + extra;

describe('campaign activity log', () => {
  it('records every action with its actor, in the API, on the dashboard page and in `campaigns show`', async () => {
    const editor = { token: h.tokens.editor };
    const admin = { token: h.tokens.admin };
    const created = await h.api('POST', '/api/campaigns', { ...editor, body: { markdown: issue('activity-1'), list: 'default' } });
    expect(created.status, created.text).toBe(201);
    const id = (created.json.campaign as { id: number }).id;
    const edited = await h.api('POST', '/api/campaigns', { ...editor, body: { markdown: issue('activity-1', '\nOne more line.\n'), list: 'default' } });
    expect(edited.status).toBe(200);
    expect(edited.json.outcome).toBe('edited');
    expect((await h.api('POST', `/api/campaigns/${id}/test`, { ...editor, body: { to: 'success+activity@simulator.amazonses.com' } })).status).toBe(200);
    const at1 = new Date(Date.now() + 3_600_000).toISOString();
    const at2 = new Date(Date.now() + 7_200_000).toISOString();
    expect((await h.api('POST', `/api/campaigns/${id}/send`, { ...editor, body: { at: at1 } })).status).toBe(202);
    expect((await h.api('POST', `/api/campaigns/${id}/send`, { ...editor, body: { at: at2 } })).status).toBe(202);
    expect((await h.api('POST', `/api/campaigns/${id}/send`, { ...editor, body: {} })).status).toBe(202); // no worker runs: stays sending
    expect((await h.api('POST', `/api/campaigns/${id}/pause`, editor)).status).toBe(200);
    const resumed = await cli('campaigns', 'resume', String(id));
    expect(resumed.code, resumed.stderr).toBe(0);
    const dashboard = await dashboardSession(h.app, h.tokens.editor);
    expect((await dashboard.post(`/admin/campaigns/${id}/pause`)).statusCode).toBe(303);
    expect((await h.api('POST', `/api/campaigns/${id}/resume`, admin)).status).toBe(200);
    expect((await h.api('POST', `/api/campaigns/${id}/cancel`, admin)).status).toBe(200);

    const log = await activity(id);
    const E = { name: 'test editor', role: 'editor' };
    const A = { name: 'test admin', role: 'admin' };
    expect(log.map((e) => [e.action, e.actor])).toEqual([
      ['created', E],
      ['edited', E],
      ['tested', E],
      ['scheduled', E],
      ['scheduled', E],
      ['started', E],
      ['paused', E],
      ['resumed', { name: 'cli', role: 'cli' }],
      ['paused', E],
      ['resumed', A],
      ['cancelled', A],
    ]);
    expect(log[2]!.detail).toBe('to success+activity@simulator.amazonses.com');
    expect(log[3]!.detail).toBe(`for ${at1}`);
    expect(log[4]!.detail).toBe(`moved to ${at2}`);
    expect(log[10]!.detail).toBe('was sending');
    for (let i = 1; i < log.length; i++) expect(Date.parse(log[i]!.at)).toBeGreaterThanOrEqual(Date.parse(log[i - 1]!.at));

    // The dashboard's campaign page lists the same entries.
    const page = await dashboard.get(`/admin/campaigns/${id}`);
    const rows = [...page.body.matchAll(/<tr data-activity="([a-z-]+)">[\s\S]*?<td class="actor">([^<]*)(?:<small>\(([a-z]+)\)<\/small>)?<\/td>/g)].map((m) => [m[1], m[2]!.trim(), m[3] ?? m[2]!.trim()]);
    expect(rows).toEqual(log.map((e) => [e.action, e.actor.name, e.actor.role]));
    expect(page.body).toContain(`moved to ${at2}`);

    // And the CLI, as text and JSON.
    const shown = await cli('campaigns', 'show', String(id));
    expect(shown.code, shown.stderr).toBe(0);
    const lines = shown.stdout.split('\n').filter((l) => / UTC {2}[a-z-]+ {2}by /.test(l));
    expect(lines.map((l) => /UTC {2}([a-z-]+) {2}by (.+?)(?: {2}|$)/.exec(l)!.slice(1, 3))).toEqual(
      log.map((e) => [e.action, e.actor.name === e.actor.role ? e.actor.name : `${e.actor.name} (${e.actor.role})`]),
    );
    const json = await cli('campaigns', 'show', String(id), '--json');
    expect((JSON.parse(json.stdout) as { activity: Entry[] }).activity).toEqual(log);
  });

  it('records the CLI as `cli` and the scheduler and completion as `system`', async () => {
    expect((await h.api('POST', '/api/subscribers', { token: h.tokens.admin, body: { email: 'success+system@simulator.amazonses.com', list: 'system-run' } })).status).toBe(201);
    const made = await h.api('POST', '/api/campaigns', { token: h.tokens.editor, body: { markdown: issue('activity-2'), list: 'system-run' } });
    const id = (made.json.campaign as { id: number }).id;
    const tested = await cli('campaigns', 'test', String(id), '--to', 'success+cli@simulator.amazonses.com');
    expect(tested.code, tested.stderr).toBe(0);
    // Due in 1.5 s: the worker's sweep fires it, the send completes it.
    expect((await h.api('POST', `/api/campaigns/${id}/send`, { token: h.tokens.editor, body: { at: new Date(Date.now() + 1500).toISOString() } })).status).toBe(202);
    await h.startWorker();
    await waitFor('campaign sent', async () => (await h.api('GET', `/api/campaigns/${id}`, { token: h.tokens.editor })).json.status === 'sent', 60_000, 100);
    const log = await activity(id);
    expect(log.map((e) => [e.action, e.actor.name, e.actor.role])).toEqual([
      ['created', 'test editor', 'editor'],
      ['tested', 'cli', 'cli'],
      ['scheduled', 'test editor', 'editor'],
      ['started', 'system', 'system'],
      ['finished', 'system', 'system'],
    ]);
    // Start no longer counts the audience (issue 16); the fan-out filled the total in by the end.
    expect(log[3]!.detail).toBe('audience being counted; the schedule fired');
    expect((await h.api('GET', `/api/campaigns/${id}/stats`, { token: h.tokens.editor })).json).toMatchObject({ total: 1, sent: 1 });
  });

  it('GET /api/campaigns/:id/activity: 404 for an unknown campaign, 401 without a token, in the OpenAPI document', async () => {
    expect((await h.api('GET', '/api/campaigns/9999/activity', { token: h.tokens.editor })).status).toBe(404);
    expect((await h.api('GET', '/api/campaigns/1/activity')).status).toBe(401);
    const spec = await h.api('GET', '/api/openapi.json', { token: h.tokens.editor });
    const op = (spec.json.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>)['/api/campaigns/{id}/activity']!.get!;
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '401', '404']));
  });
});
