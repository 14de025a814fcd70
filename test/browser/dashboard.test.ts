/**
 * The dashboard in a real browser (playwright-core + Debian chromium): log in with an
 * admin token, watch a 500-subscriber campaign progress live to completion, pause and
 * resume it from the page, check the page's numbers equal the API's stats, and save
 * screenshots to artifacts/ (one also to docs/dashboard.png for the README).
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { createSurfaceHarness, sleep, SAMPLE_MARKDOWN, waitFor, type SurfaceHarness } from '../support/surface-harness.js';

const ROOT = join(import.meta.dirname, '../..');
const ARTIFACTS = join(ROOT, 'artifacts');
const COUNTERS = ['total', 'queued', 'sent', 'delivered', 'bounced', 'complained', 'unsubscribed', 'failed', 'opened', 'clicked'] as const;
const SUBSCRIBERS = 500;
const BOUNCES = 15; // 3%: amber against SES's 5% review threshold, under the breaker

let h: SurfaceHarness;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  h = await createSurfaceHarness({ sendRate: 40 });
  const rows = ['email,name'];
  for (let i = 1; i <= SUBSCRIBERS; i++) {
    const bounce = i % 33 === 0; // 33, 66, …, 495: 15 spread over the send
    rows.push(bounce ? `bounce+${i}@simulator.amazonses.com,Bouncer ${i}` : `success+${i}@simulator.amazonses.com,Reader <${i}> & "friends"`);
  }
  const report = await h.ctx.subscribers.importCsv(Readable.from([rows.join('\n')]), 'weekly');
  expect(report.imported).toBe(SUBSCRIBERS);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

async function pageStats(page: Page): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const k of COUNTERS) out[k] = Number(await page.locator(`[data-stat="${k}"]`).textContent());
  return out;
}

async function apiStats(id: number): Promise<Record<string, unknown>> {
  return (await h.api('GET', `/api/campaigns/${id}/stats`, { token: h.tokens.admin })).json;
}

describe('dashboard', () => {
  it('logs in, follows a 500-subscriber send live, pauses and resumes, and agrees with the API', async () => {
    const created = await h.api('POST', '/api/campaigns', { token: h.tokens.admin, body: { markdown: SAMPLE_MARKDOWN, list: 'weekly' } });
    expect(created.status).toBe(201);
    const id = (created.json.campaign as { id: number }).id;

    const context = await browser.newContext({ viewport: { width: 1280, height: 1100 } });
    const page = await context.newPage();
    // Every failed load on our own pages (the login answers 401/403 on purpose; bull-board
    // is a third-party UI and is checked separately).
    const failures: string[] = [];
    const ours = (url: string) => url.startsWith(h.base) && !url.includes('/admin/login') && !url.includes('/admin/queues');
    page.on('response', (r) => {
      if (r.status() >= 400 && ours(r.url())) failures.push(`${r.status()} ${r.url()}`);
    });
    page.on('requestfailed', (r) => {
      // A poll still in flight when the page navigates (a button press reloads it) is
      // aborted by the browser, not failed by the server.
      if (r.failure()?.errorText === 'net::ERR_ABORTED') return;
      if (ours(r.url())) failures.push(`failed ${r.url()}: ${r.failure()?.errorText ?? '?'}`);
    });
    page.on('pageerror', (e) => failures.push(`page error ${e.message}`));

    // Not logged in: redirected to the login form.
    await page.goto(`${h.base}/admin`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    await page.fill('input[name="token"]', 'nlt_wrong-token');
    await page.click('button[type="submit"]');
    await expect.poll(() => page.locator('.error').textContent()).toContain('Unknown token');
    // (Editor tokens log in too: test/browser/editor-dashboard.test.ts.)
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-login.png') });
    await page.fill('input[name="token"]', h.tokens.admin);
    await page.click('button[type="submit"]');
    await page.waitForURL(`${h.base}/admin`);

    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'nl_session')!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe('Strict');
    expect(session.value).not.toContain(h.tokens.admin);

    // The campaign list shows the draft; open it.
    await expect.poll(() => page.locator(`tr[data-campaign-id="${id}"] .status`).textContent()).toBe('draft');
    await page.click(`tr[data-campaign-id="${id}"] a`);
    await page.waitForURL(`${h.base}/admin/campaigns/${id}`);
    expect(await page.locator('[data-stat="sent"]').textContent()).toBe('0');

    // Start the send through the API; the page must follow without reloading.
    await h.startWorker();
    const started = await h.api('POST', `/api/campaigns/${id}/send`, { token: h.tokens.admin, body: {} });
    expect(started.status).toBe(202);
    const marker = await page.evaluate(() => {
      (window as unknown as { __marker: number }).__marker = 42;
      return 42;
    });
    // Two different counts while the campaign sends: the page follows it live (counted in
    // updates seen, not by a point in time the page must have reached).
    const seen = new Set<number>();
    await waitFor('two live progress updates', async () => {
      const sent = Number(await page.locator('[data-stat="sent"]').textContent());
      if (sent > 0 && sent < SUBSCRIBERS) seen.add(sent);
      return seen.size >= 2 || sent >= SUBSCRIBERS;
    }, 60_000, 100);
    expect([...seen].length, 'sent counts shown while sending').toBeGreaterThanOrEqual(2);
    expect(await page.locator('[data-field="status"]').textContent()).toBe('sending');
    expect(await page.evaluate(() => (window as unknown as { __marker: number }).__marker)).toBe(marker); // no reload
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-sending.png'), fullPage: true });

    // A forged action without the CSRF token is refused, even with the session cookie.
    const forged = await page.request.post(`${h.base}/admin/campaigns/${id}/pause`, { form: { action: 'pause' } });
    expect(forged.status()).toBe(403);
    expect((await apiStats(id)).status).toBe('sending');

    // Pause from the page.
    await page.click('form[data-action="pause"] button');
    await page.waitForURL(/done=pause/);
    expect(await page.locator('.flash').textContent()).toContain('paused');
    expect(await page.locator('[data-field="status"]').textContent()).toBe('paused');
    expect((await apiStats(id)).status).toBe('paused');
    // Sends already past the status check finish, however long that takes.
    await waitFor('in-flight sends finished', async () => {
      const inFlight = await h.store.db.selectFrom('deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', id).where('status', '=', 'sending').executeTakeFirstOrThrow();
      return Number(inFlight.n) === 0;
    }, 30_000, 100);
    const pausedAt = Number((await apiStats(id)).sent);
    await sleep(1500);
    expect(Number((await apiStats(id)).sent)).toBe(pausedAt);
    expect(pausedAt).toBeLessThan(SUBSCRIBERS);
    await expect.poll(() => page.locator('[data-stat="sent"]').textContent(), { timeout: 12_000 }).toBe(String(pausedAt));
    expect(await page.locator('form[data-action="pause"]').isHidden()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-paused.png'), fullPage: true });

    // Resume from the page and watch it finish.
    await page.click('form[data-action="resume"] button');
    await page.waitForURL(/done=resume/);
    expect(['sending', 'sent']).toContain(await page.locator('[data-field="status"]').textContent());
    await waitFor('page shows the campaign sent', async () => (await page.locator('[data-field="status"]').textContent()) === 'sent', 60_000, 250);

    // All SES events applied (deliveries and bounces arrive through the signed webhook).
    const final = await waitFor('events settled', async () => {
      const s = await apiStats(id);
      return Number(s.delivered) + Number(s.bounced) === SUBSCRIBERS ? s : null;
    }, 30_000, 250);
    expect(final).toMatchObject({ status: 'sent', total: SUBSCRIBERS, sent: SUBSCRIBERS, bounced: BOUNCES, delivered: SUBSCRIBERS - BOUNCES, queued: 0 });
    // The page catches up within a poll or two and then shows exactly the API's numbers.
    await expect.poll(() => page.locator('[data-stat="delivered"]').textContent(), { timeout: 12_000 }).toBe(String(final.delivered));
    const shown = await pageStats(page);
    for (const k of COUNTERS) expect(shown[k], k).toBe(final[k]);

    // Rates against the SES thresholds, the chart and the recent bounces with their reasons.
    expect(await page.locator('[data-rate="bounce"] .value').textContent()).toBe('3.00%');
    expect(await page.locator('[data-rate="bounce"]').getAttribute('class')).toContain('rate-warn');
    expect(await page.locator('[data-rate="complaint"]').getAttribute('class')).toContain('rate-ok');
    expect(await page.locator('.chart svg polyline').count()).toBe(3);
    const bounceRows = page.locator('tbody[data-fragment="problems"] tr.problem-bounce');
    expect(await bounceRows.count()).toBe(BOUNCES);
    expect(await bounceRows.first().locator('.reason').textContent()).not.toBe('');

    // Clicks arrive later through the same signed webhook; the page ranks the links.
    const rows = await h.store.db.selectFrom('deliveries').select(['subscriber_id', 'email', 'ses_message_id']).where('campaign_id', '=', id).where('status', '=', 'delivered').orderBy('subscriber_id').limit(12).execute();
    const links = ['https://docs.example.org/plan', 'https://github.com/example/harbor/milestone/31'];
    for (const [i, r] of rows.entries()) {
      const link = i < 8 ? links[0]! : links[1]!;
      const status = await h.postSesEvent({
        eventType: 'Click',
        mail: { timestamp: new Date().toISOString(), messageId: r.ses_message_id, destination: [r.email], tags: { campaign: [String(id)], subscriber: [String(r.subscriber_id)] } },
        click: { timestamp: new Date().toISOString(), ipAddress: '192.0.2.1', userAgent: 'Mozilla/5.0', link, linkTags: {} },
      });
      expect(status).toBe(200);
    }
    await expect.poll(() => page.locator('[data-stat="clicked"]').textContent(), { timeout: 12_000 }).toBe('12');
    expect((await apiStats(id)).clicked).toBe(12);
    const linkRows = page.locator('tbody[data-fragment="links"] tr');
    await expect.poll(() => linkRows.count(), { timeout: 12_000 }).toBe(2);
    expect(await linkRows.nth(0).locator('.url').textContent()).toBe(links[0]);
    expect(await linkRows.nth(0).locator('.num').textContent()).toBe('8');
    expect(await linkRows.nth(1).locator('.num').textContent()).toBe('4');
    await page.goto(`${h.base}/admin/campaigns/${id}`); // without the "resumed" notice, for the README shot
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-complete.png'), fullPage: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-complete-viewport.png') });
    // The README's screenshot: written when missing or on request, so test runs leave the tree clean.
    const docShot = join(ROOT, 'docs/dashboard.png');
    if (!existsSync(docShot) || process.env.UPDATE_DOCS_SCREENSHOT === '1') {
      mkdirSync(join(ROOT, 'docs'), { recursive: true });
      copyFileSync(join(ARTIFACTS, 'dashboard-complete-viewport.png'), docShot);
    }

    // Subscriber search escapes what subscribers typed.
    await page.goto(`${h.base}/admin/subscribers?q=success%2B7%40`);
    const cell = page.locator('table.subscribers tbody tr').first().locator('td').nth(1);
    expect(await cell.textContent()).toMatch(/^Reader <\d+> & "friends"$/);
    expect(await page.locator('table.subscribers b, table.subscribers script').count()).toBe(0);

    // bull-board behind the same login.
    await page.goto(`${h.base}/admin/queues`);
    await expect.poll(() => page.content(), { timeout: 15_000 }).toMatch(/send|fanout/);
    await page.screenshot({ path: join(ARTIFACTS, 'bull-board.png') });
    const anonymous = await fetch(`${h.base}/admin/queues/api/queues`);
    expect(anonymous.status).toBe(401);

    // Logout ends the session server-side.
    await page.goto(`${h.base}/admin`);
    await page.click('header form[action="/admin/logout"] button');
    await page.waitForURL(/\/admin\/login/);
    const reuse = await fetch(`${h.base}/admin/campaigns.json`, { headers: { cookie: `nl_session=${session.value}` } });
    expect(reuse.status).toBe(401);
    expect(failures).toEqual([]);
    await context.close();
  }, 180_000);
});
