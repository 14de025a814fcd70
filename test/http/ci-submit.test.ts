/**
 * Issue 13: the CI recipe (examples/ci/submit-issue.sh: curl + jq against the API) run
 * twice on the same issue file makes one campaign; run again with another time it moves
 * the schedule; a changed file edits the scheduled campaign; once it is sending, a re-run
 * sends nothing again. Real server, SQLite, Redis, the script in a real shell.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSurfaceHarness, SAMPLE_MARKDOWN, type SurfaceHarness } from '../support/surface-harness.js';

const RECIPE = join(import.meta.dirname, '..', '..', 'examples', 'ci', 'submit-issue.sh');
const LIST = 'ci-weekly';

let h: SurfaceHarness;
let dir: string;
beforeAll(async () => {
  h = await createSurfaceHarness();
  dir = mkdtempSync(join(tmpdir(), 'ci-submit-'));
  expect((await h.api('POST', '/api/subscribers', { token: h.tokens.admin, body: { email: 'success+ci@simulator.amazonses.com', list: LIST } })).status).toBe(201);
});
afterAll(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function recipe(file: string, at?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH, NEWSLETTER_URL: h.base, NEWSLETTER_TOKEN: h.tokens.editor };
  return new Promise((resolve) => {
    execFile('sh', [RECIPE, file, LIST, ...(at ? [at] : [])], { env }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function campaignsOnList() {
  const res = await h.api('GET', '/api/campaigns', { token: h.tokens.editor });
  return (res.json.items as Array<{ id: number; list: string; status: string; scheduled_at: string | null; title: string }>).filter((c) => c.list === LIST);
}

describe('the CI recipe', () => {
  it('submitting the same issue file twice makes one campaign; again with another time moves its schedule', async () => {
    const file = join(dir, 'week-49.md');
    writeFileSync(file, SAMPLE_MARKDOWN.replace('slug: 2026-11-26-week-48', 'slug: 2026-12-01-week-49'));
    const at = new Date(Date.now() + 86_400_000).toISOString();

    const first = await recipe(file, at);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^campaign (\d+): created \(draft\)\ncampaign \1: scheduled for /);
    const second = await recipe(file, at);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/: existing \(scheduled\)\n/);

    let campaigns = await campaignsOnList();
    expect(campaigns).toHaveLength(1);
    expect(campaigns[0]).toMatchObject({ status: 'scheduled', scheduled_at: at });
    const id = campaigns[0]!.id;

    const later = new Date(Date.now() + 2 * 86_400_000).toISOString();
    expect((await recipe(file, later)).code).toBe(0);
    campaigns = await campaignsOnList();
    expect(campaigns).toEqual([expect.objectContaining({ id, status: 'scheduled', scheduled_at: later })]);

    // A fix to the file (same slug) edits the scheduled campaign; its schedule stays.
    writeFileSync(file, SAMPLE_MARKDOWN.replace('slug: 2026-11-26-week-48', 'slug: 2026-12-01-week-49').replace('Harbor Notes: Week 48', 'Harbor Notes: Week 49'));
    const fixed = await recipe(file, later);
    expect(fixed.stdout).toMatch(/: edited \(scheduled\)\n/);
    campaigns = await campaignsOnList();
    expect(campaigns).toEqual([expect.objectContaining({ id, status: 'scheduled', scheduled_at: later, title: 'Harbor Notes: Week 49' })]);

    const log = (await h.api('GET', `/api/campaigns/${id}/activity`, { token: h.tokens.editor })).json.items as Array<{ action: string; detail: string | null }>;
    // Re-runs with the same time change nothing and are not logged.
    expect(log.map((e) => e.action)).toEqual(['created', 'scheduled', 'scheduled', 'edited']);
    expect(log[1]!.detail).toBe(`for ${at}`);
    expect(log[2]!.detail).toBe(`moved to ${later}`);
  });

  it('once the campaign is sending, a re-run sends nothing again; other content is refused (409)', async () => {
    const file = join(dir, 'week-50.md');
    const markdown = SAMPLE_MARKDOWN.replace('slug: 2026-11-26-week-48', 'slug: 2026-12-08-week-50');
    writeFileSync(file, markdown);
    const now = await recipe(file);
    expect(now.code, now.stderr).toBe(0);
    expect(now.stdout).toMatch(/: sending\n$/); // no worker runs here: it stays sending
    const again = await recipe(file);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/: existing \(sending\)\ncampaign \d+ is sending: nothing to send\n$/);

    writeFileSync(file, `${markdown}\nA late addition.\n`);
    const changed = await recipe(file);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(/already campaign \d+ \(sending\).*new slug/);
    expect((await campaignsOnList()).filter((c) => c.title === 'Harbor Notes: Week 48')).toHaveLength(1);
  });

  it('after a cancel, submitting the issue again makes a new draft (201)', async () => {
    const markdown = SAMPLE_MARKDOWN.replace('slug: 2026-11-26-week-48', 'slug: 2026-12-15-week-51');
    const first = await h.api('POST', '/api/campaigns', { token: h.tokens.editor, body: { markdown, list: LIST } });
    expect(first.status).toBe(201);
    const id = (first.json.campaign as { id: number }).id;
    expect((await h.api('POST', `/api/campaigns/${id}/cancel`, { token: h.tokens.admin })).status).toBe(200);
    const second = await h.api('POST', '/api/campaigns', { token: h.tokens.editor, body: { markdown, list: LIST } });
    expect(second.status).toBe(201);
    expect(second.json.outcome).toBe('created');
    expect((second.json.campaign as { id: number }).id).not.toBe(id);
    // Another list is another campaign.
    await h.api('POST', '/api/subscribers', { token: h.tokens.admin, body: { email: 'success+other@simulator.amazonses.com', list: 'other-list' } });
    expect((await h.api('POST', '/api/campaigns', { token: h.tokens.editor, body: { markdown, list: 'other-list' } })).status).toBe(201);
  });
});
