/**
 * One issue → campaign path, read at the SES simulator: `newsletter send` (CLI) and
 * `POST /api/campaigns` store the same subject for an issue whose title has `{`, `}` and
 * `\`, subscribers receive exactly the stored subject (an API override too), and a test
 * copy is the subscribers' message but for the per-copy fields and the test marker.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatedMail } from '../../src/simulator/ses-simulator.js';
import { createSurfaceHarness, waitFor, type SurfaceHarness } from '../support/surface-harness.js';
import { splitMessage } from '../support/message-parity.js';
import { ROOT } from '../support/pipeline.js';

const TITLE = 'Week {1} \\ {{name}}';
const OVERRIDE = 'Override {x} \\ {{email}}';
const LIST = 'paths';
const READER = 'success+paths@simulator.amazonses.com';
const EDITOR = 'success+paths-editor@simulator.amazonses.com';
// Single quotes in front matter: the backslash stays a backslash.
const MARKDOWN = `---\ntitle: '${TITLE}'\ndate: 2026-11-26\nslug: 2026-11-26-week-1\n---\n\n## News\n\nThe [plan](https://docs.example.org/plan) is out.\n`;

let h: SurfaceHarness;
let dir: string;
beforeAll(async () => {
  h = await createSurfaceHarness({ sendRate: 200, sim: { keepRaw: true } });
  dir = mkdtempSync(join(tmpdir(), 'issue-paths-'));
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...h.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const campaignOf = (m: SimulatedMail) => /^X-Newsletter-Campaign: (\d+)\r?$/m.exec(m.raw.toString('latin1').split('\r\n\r\n')[0]!)?.[1];
const mailsOf = (id: number) => h.sim.messages.filter((m) => campaignOf(m) === String(id));

describe('one issue → campaign path', () => {
  it('CLI and API store the same subject, subscribers receive it, an override reaches the mails; a test copy differs only per copy', async () => {
    const token = h.tokens.editor;
    expect((await h.api('POST', '/api/subscribers', { token, body: { email: READER, list: LIST } })).status).toBe(201);
    await h.startWorker();
    const file = join(dir, 'week-1.md');
    writeFileSync(file, MARKDOWN);

    const [sent, viaApi, overridden] = await Promise.all([
      cli(['send', file, '--list', LIST, '--json']),
      // Own slugs: the same issue (slug) on the same list is one campaign through the API.
      h.api('POST', '/api/campaigns', { token, body: { markdown: MARKDOWN.replace('slug: 2026-11-26-week-1', 'slug: week-1-api'), list: LIST } }),
      h.api('POST', '/api/campaigns', { token, body: { markdown: MARKDOWN.replace('slug: 2026-11-26-week-1', 'slug: week-1-override'), list: LIST, subject: OVERRIDE } }),
    ]);
    expect(sent.code, sent.stderr).toBe(0);
    const cliId = Number((JSON.parse(sent.stdout) as { id: number }).id);
    const apiCampaign = viaApi.json.campaign as { id: number; subject: string };
    const overrideCampaign = overridden.json.campaign as { id: number; subject: string };
    const cliCampaign = (await h.api('GET', `/api/campaigns/${cliId}`, { token })).json as { subject: string };

    expect(cliCampaign.subject).toBe(TITLE);
    expect(apiCampaign.subject).toBe(TITLE);
    expect(overrideCampaign.subject).toBe(OVERRIDE);

    for (const id of [apiCampaign.id, overrideCampaign.id]) expect((await h.api('POST', `/api/campaigns/${id}/send`, { token, body: {} })).status).toBe(202);
    await waitFor('one mail per campaign', async () => [cliId, apiCampaign.id, overrideCampaign.id].every((id) => mailsOf(id).length === 1), 60_000, 100);
    const received = async (id: number) => (await simpleParser(mailsOf(id)[0]!.raw)).subject;
    expect(await received(cliId)).toBe(cliCampaign.subject);
    expect(await received(apiCampaign.id)).toBe(apiCampaign.subject);
    expect(await received(overrideCampaign.id)).toBe(OVERRIDE);

    // Test copy of the overridden campaign vs the subscriber's copy.
    const before = h.sim.messages.length;
    const test = await h.api('POST', `/api/campaigns/${overrideCampaign.id}/test`, { token, body: { to: EDITOR } });
    expect(test.status, test.text).toBe(200);
    const testMail = h.sim.messages.slice(before).find((m) => m.destinations.includes(EDITOR))!;
    const subscriberMail = mailsOf(overrideCampaign.id).find((m) => m.destinations.includes(READER))!;
    const sub = await splitMessage(subscriberMail.raw, READER);
    const copy = await splitMessage(testMail.raw, EDITOR);
    expect(copy.shared).toEqual(sub.shared);
    expect(copy.text).toBe(sub.text);
    expect(copy.html).toBe(sub.html);
    expect(sub.html).toContain(`${h.config.PUBLIC_URL}/archive/`); // "view in browser", in both
    expect(copy.own['x-newsletter-test']).toBe('1');
    expect(sub.own['x-newsletter-test']).toBeUndefined();
    expect(copy.unsubscribeUrl).not.toBe(sub.unsubscribeUrl);
    expect(copy.own['message-id']).not.toBe(sub.own['message-id']);
    // SES events of a test copy must not count for the campaign.
    expect(testMail.tags).toEqual({ test: `c${overrideCampaign.id}` });
    expect(subscriberMail.tags).toMatchObject({ campaign: String(overrideCampaign.id) });
  }, 180_000);
});
