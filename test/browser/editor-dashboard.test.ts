/**
 * Issue 13 in a real browser (playwright-core + Debian chromium): an editor logs in with
 * an editor token, sees the campaign page without resume or cancel, schedules the campaign
 * from the page and sees it in the activity log; the tokens page and a forged cancel POST
 * (with the page's own valid CSRF token) are refused with 403. Screenshots to artifacts/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser } from 'playwright-core';
import { launchChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSurfaceHarness, SAMPLE_MARKDOWN, type SurfaceHarness } from '../support/surface-harness.js';

const ARTIFACTS = join(import.meta.dirname, '../..', 'artifacts');

let h: SurfaceHarness;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  h = await createSurfaceHarness();
  expect((await h.api('POST', '/api/subscribers', { token: h.tokens.admin, body: { email: 'success+browser@simulator.amazonses.com', list: 'default' } })).status).toBe(201);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('the dashboard for an editor, in a browser', () => {
  it('logs in, schedules from the page, sees the activity; resume, cancel and tokens are neither shown nor allowed', async () => {
    const created = await h.api('POST', '/api/campaigns', { token: h.tokens.editor, body: { markdown: SAMPLE_MARKDOWN, list: 'default' } });
    expect(created.status).toBe(201);
    const id = (created.json.campaign as { id: number }).id;

    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('dialog', (d) => void d.accept());

    await page.goto(`${h.base}/admin/login`);
    await page.fill('input[name="token"]', h.tokens.editor);
    await page.click('button[type="submit"]');
    await page.waitForURL(`${h.base}/admin`);
    expect(await page.locator('.who').textContent()).toBe('test editor (editor)');
    expect(await page.locator('nav a[href="/admin/tokens"]').count()).toBe(0);
    expect(await page.locator('nav a[href="/admin/queues"]').count()).toBe(0);

    await page.click(`tr[data-campaign-id="${id}"] a`);
    await page.waitForURL(`${h.base}/admin/campaigns/${id}`);
    expect(await page.locator('form[data-action="resume"]').count()).toBe(0);
    expect(await page.locator('form[data-action="cancel"]').count()).toBe(0);
    expect(await page.locator('form[data-action="send"]').isVisible()).toBe(true);

    // Schedule an hour ahead (the field is UTC).
    const at = new Date(Date.now() + 3_600_000).toISOString().slice(0, 19);
    await page.fill('form[data-action="send"] input[name="at"]', at);
    await page.click('form[data-action="send"] button');
    await page.waitForURL(`${h.base}/admin/campaigns/${id}?done=schedule`);
    expect(await page.locator('[data-field="status"]').textContent()).toBe('scheduled');
    expect(await page.locator('.schedule time').getAttribute('datetime')).toBe(`${at}.000Z`);
    // Action, who, detail of each row (the first cell is the time).
    const activity = await page
      .locator('table.activity tbody tr')
      .evaluateAll((rows) => rows.map((r) => [...(r as HTMLTableRowElement).cells].slice(1).map((c) => c.textContent!.replace(/\s+/g, ' ').trim())));
    expect(activity).toEqual([
      ['created', 'test editor (editor)', ''],
      ['scheduled', 'test editor (editor)', `for ${at}.000Z`],
    ]);
    await page.screenshot({ path: join(ARTIFACTS, 'editor-campaign.png'), fullPage: true });

    // A forged cancel from the page's own script context, with the session's valid CSRF token.
    const forged = await page.evaluate(async (url) => {
      const csrf = document.body.getAttribute('data-csrf')!;
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: `_csrf=${encodeURIComponent(csrf)}` });
      return { status: res.status, body: await res.text() };
    }, `${h.base}/admin/campaigns/${id}/cancel`);
    expect(forged.status).toBe(403);
    expect(forged.body).toMatch(/needs the admin role/);
    expect((await h.api('GET', `/api/campaigns/${id}`, { token: h.tokens.admin })).json.status).toBe('scheduled');

    const tokens = await page.goto(`${h.base}/admin/tokens`);
    expect(tokens!.status()).toBe(403);
    expect(await page.textContent('body')).toMatch(/needs the admin role/);
    const queues = await page.goto(`${h.base}/admin/queues`);
    expect(queues!.status()).toBe(403);
    await page.screenshot({ path: join(ARTIFACTS, 'editor-tokens-403.png') });
    expect(errors).toEqual([]);
    await context.close();
  });
});
