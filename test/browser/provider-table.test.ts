/**
 * The campaign page in a real browser shows the per-provider table and human/machine
 * engagement, follows new bounces live, and shows the per-provider pause with its reason.
 * Events arrive through the real signed webhook; ledger rows are seeded (no send needed).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.js';
import { createSurfaceHarness, SAMPLE_MARKDOWN, type SurfaceHarness } from '../support/surface-harness.js';
import { seedDeliveries } from '../support/seed.js';

const ARTIFACTS = join(import.meta.dirname, '../../artifacts');
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148';

let h: SurfaceHarness;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  h = await createSurfaceHarness();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('dashboard: mailbox providers', () => {
  it('shows the per-provider table and human/machine engagement, live, and the per-provider pause', async () => {
    expect((await h.api('POST', '/api/subscribers', { token: h.tokens.admin, body: { email: 'first@example.org', list: 'providers' } })).status).toBe(201);
    const created = await h.api('POST', '/api/campaigns', { token: h.tokens.admin, body: { markdown: SAMPLE_MARKDOWN, list: 'providers' } });
    expect(created.status).toBe(201);
    const id = (created.json.campaign as { id: number }).id;
    const db = h.store.db;
    const sentAt = Date.now() - 3600_000;
    await db.updateTable('campaigns').set({ status: 'sending', started_at: sentAt, total: 250 }).where('id', '=', id).execute();
    await seedDeliveries(db, id, 150, { emailPrefix: 'g', sesPrefix: `gm${id}-`, status: 'delivered', domain: 'gmail.com' });
    await seedDeliveries(db, id, 100, { emailPrefix: 'o', sesPrefix: `ms${id}-`, status: 'delivered', domain: 'outlook.com' });
    await db.updateTable('deliveries').set({ sent_at: sentAt, outcome_at: sentAt + 2000 }).where('campaign_id', '=', id).execute();
    const subscriberOf = async (email: string) =>
      Number((await db.selectFrom('deliveries').select('subscriber_id').where('campaign_id', '=', id).where('email', '=', email).executeTakeFirstOrThrow()).subscriber_id);
    const mail = async (email: string, messageId: string) => ({
      messageId,
      destination: [email],
      timestamp: new Date(sentAt).toISOString(),
      tags: { campaign: [String(id)], subscriber: [String(await subscriberOf(email))] },
    });
    const bounce = async (i: number) =>
      expect(
        await h.postSesEvent({
          eventType: 'Bounce',
          mail: await mail(`o${i}@outlook.com`, `ms${id}-${i}`),
          bounce: {
            bounceType: 'Permanent',
            bounceSubType: 'General',
            timestamp: new Date().toISOString(),
            bouncedRecipients: [{ emailAddress: `o${i}@outlook.com`, status: '5.7.515', diagnosticCode: 'smtp; 550 5.7.515 Access denied, sending domain does not meet the required authentication level' }],
          },
        }),
      ).toBe(200);
    await bounce(0);
    await bounce(1);
    expect(
      await h.postSesEvent({
        eventType: 'DeliveryDelay',
        mail: await mail('g1@gmail.com', `gm${id}-1`),
        deliveryDelay: { timestamp: new Date().toISOString(), delayType: 'TransientCommunicationFailure', delayedRecipients: [{ emailAddress: 'g1@gmail.com', status: '4.7.28', diagnosticCode: 'smtp; 421 4.7.28 unusual rate' }] },
      }),
    ).toBe(200);
    const open = async (i: number, userAgent: string, ipAddress: string) =>
      expect(await h.postSesEvent({ eventType: 'Open', mail: await mail(`g${i}@gmail.com`, `gm${id}-${i}`), open: { timestamp: new Date().toISOString(), ipAddress, userAgent } })).toBe(200);
    await open(10, IPHONE, '203.0.113.10');
    await open(11, IPHONE, '203.0.113.11');
    await open(12, 'Mozilla/5.0', '17.58.1.1'); // Apple MPP

    const context = await browser.newContext({ viewport: { width: 1280, height: 1400 } });
    const page = await context.newPage();
    await page.goto(`${h.base}/admin/login`);
    await page.fill('input[name="token"]', h.tokens.admin);
    await page.click('button[type="submit"]');
    await page.waitForURL(`${h.base}/admin`);
    await page.goto(`${h.base}/admin/campaigns/${id}`);

    const cell = (provider: string, column: string) => page.locator(`tbody[data-fragment="providers"] tr[data-provider="${provider}"] .${column}`).textContent();
    expect(await page.locator('tbody[data-fragment="providers"] tr').count()).toBe(2);
    expect(await cell('gmail', 'sent')).toBe('150');
    expect(await cell('gmail', 'deferred')).toBe('1');
    expect(await cell('gmail', 'top-status')).toBe('4.7.28');
    expect(await cell('microsoft', 'bounced')).toBe('2');
    expect(await cell('microsoft', 'bounce-rate')).toBe('2.00%');
    expect(await cell('microsoft', 'top-status')).toBe('5.7.515');
    expect(await page.locator('tr[data-provider="other"]').count()).toBe(0);
    expect(await page.locator('[data-stat="opened_human"]').textContent()).toBe('2');
    expect(await page.locator('[data-stat="opened_machine"]').textContent()).toBe('1');
    expect(await page.locator('[data-stat="opened"]').textContent()).toBe('3');

    // A third Microsoft bounce: 3% at one provider. The page follows live; the campaign pauses.
    await bounce(2);
    await expect.poll(() => cell('microsoft', 'bounced'), { timeout: 15_000 }).toBe('3');
    await expect.poll(() => page.locator('[data-field="status"]').textContent(), { timeout: 15_000 }).toBe('paused');
    await page.reload();
    expect(await page.locator('.paused-reason').textContent()).toContain('microsoft bounce rate 3.00% (3/100)');
    expect(await page.locator('tr[data-provider="microsoft"]').getAttribute('class')).toBe('rate-bad');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-providers.png'), fullPage: true });

    // The API's stats carry the same figures.
    const stats = (await h.api('GET', `/api/campaigns/${id}/stats`, { token: h.tokens.admin })).json as Record<string, unknown> & { providers: Record<string, Record<string, unknown>> };
    expect(stats.providers.microsoft).toMatchObject({ sent: 100, bounced: 3, top_status: '5.7.515' });
    expect(stats).toMatchObject({ opened_human: 2, opened_machine: 1, pause_code: 'provider-breaker' });
    await context.close();
  }, 120_000);
});
