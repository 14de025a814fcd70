/**
 * bull-board's own UI in a real browser (playwright-core + Debian chromium) after issue #12
 * put its actions behind the dashboard's CSRF token: a queue action clicked in bull-board
 * still works (its axios echoes the XSRF-TOKEN cookie as X-XSRF-TOKEN), and the action
 * request carries the session's token.
 */
import { type Browser } from 'playwright-core';
import { launchChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSurfaceHarness, type SurfaceHarness } from '../support/surface-harness.js';

let h: SurfaceHarness;
let browser: Browser;

beforeAll(async () => {
  h = await createSurfaceHarness();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('bull-board behind the dashboard CSRF token', () => {
  it('pausing a queue from bull-board works, and the request carries the session CSRF token', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${h.base}/admin/login`);
    await page.fill('input[name="token"]', h.tokens.admin);
    await page.click('form.login button[type="submit"]');
    await page.waitForURL(/\/admin$/);
    const csrf = await page.locator('body').getAttribute('data-csrf');

    const actions: Array<{ method: string; url: string; xsrf: string | undefined }> = [];
    page.on('request', (r) => {
      if (r.method() !== 'GET' && r.url().includes('/admin/queues/api/')) actions.push({ method: r.method(), url: r.url(), xsrf: r.headers()['x-xsrf-token'] });
    });
    const queue = h.ctx.send.queues.send;
    await page.goto(`${h.base}/admin/queues/queue/${queue.name}`);
    await page.waitForLoadState('networkidle');
    // bull-board's queue menu → Pause (it may ask to confirm).
    await page.locator('button[class*="trigger-"]').last().click();
    await page.locator('[role="menuitem"]', { hasText: /^Pause$/ }).click();
    const confirm = page.getByRole('button', { name: /^(Confirm|Pause|Yes|OK)$/i });
    if (await confirm.count()) await confirm.first().click();
    await expect.poll(() => queue.isPaused(), { timeout: 15_000 }).toBe(true);

    const pause = actions.find((a) => a.method === 'PUT' && a.url.endsWith(`/api/queues/${queue.name}/pause`));
    expect(pause, JSON.stringify(actions)).toBeDefined();
    expect(pause!.xsrf).toBe(csrf);
    // The cookie bull-board's axios read is the session's own CSRF token.
    const cookies = await context.cookies(`${h.base}/admin/queues`);
    expect(cookies.find((c) => c.name === 'XSRF-TOKEN')).toMatchObject({ value: csrf, httpOnly: false, sameSite: 'Strict', path: '/admin/queues' });
    await queue.resume();
    await context.close();
  }, 120_000);
});
