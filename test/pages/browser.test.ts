/**
 * The reader's whole path in a real browser (playwright-core + Debian's chromium): sign up
 * through the form, open the confirmation link from the mail SES accepted, confirm, then
 * unsubscribe by mistake and resubscribe.
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { AudienceRepository } from '../../src/store/audience-repository.js';
import { signUnsubscribeToken } from '../../src/unsubscribe/token.js';
import { createPagesHarness, type PagesHarness } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe.skipIf(!existsSync(CHROMIUM))('sign-up in a browser', () => {
  let h: PagesHarness;
  let browser: Browser;
  let base: string;
  beforeAll(async () => {
    h = await createPagesHarness('sqlite');
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('form → confirmation mail → confirm → active on the list; unsubscribe by mistake → resubscribe', async () => {
    const db = h.store.db;
    const audience = new AudienceRepository(db);
    const page = await browser.newPage();
    await page.goto(`${base}/subscribe`);
    // Labelled fields; the honeypot is hidden from assistive technology.
    expect(await page.getByRole('textbox').count()).toBe(2);
    await page.getByLabel('Email address').fill('Browser.Reader@Example.com');
    await page.getByLabel('Name (optional)').fill('Brow <ser>');
    await page.getByLabel('Newsletter').selectOption('Release notes');
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();

    const [mail] = await h.waitForMails('browser.reader@example.com', 1);
    expect(mail!.subject).toBe('Confirm your subscription to Release notes');
    expect(mail!.html).toContain('Confirm my subscription');
    const list = Number((await db.selectFrom('lists').select('id').where('name', '=', 'Release notes').executeTakeFirstOrThrow()).id);
    const inAudience = async () => (await audience.audiencePage({ listId: list, afterId: 0, limit: 10 })).some((m) => m.email === 'browser.reader@example.com');
    expect(await inAudience()).toBe(false);

    // The link's origin is PUBLIC_URL; this server listens elsewhere, so keep the path.
    expect(mail!.link.startsWith('https://news.example.com/confirm/')).toBe(true);
    await page.goto(base + new URL(mail!.link).pathname);
    await page.getByRole('heading', { name: 'Confirm your subscription' }).waitFor();
    expect(await page.textContent('main')).toContain('browser.reader@example.com');
    expect(await inAudience()).toBe(false); // opening the link changed nothing

    await page.getByRole('button', { name: 'Confirm subscription' }).click();
    await page.getByRole('heading', { name: 'You are subscribed' }).waitFor();
    expect(await inAudience()).toBe(true);
    const s = await db.selectFrom('subscribers').selectAll().where('email', '=', 'browser.reader@example.com').executeTakeFirstOrThrow();
    expect(s.status).toBe('active');
    expect(s.name).toBe('Brow <ser>');

    // Later an issue's unsubscribe link is clicked by mistake…
    const token = signUnsubscribeToken({ subscriberId: Number(s.id), listId: list }, h.config.UNSUBSCRIBE_SECRET!);
    await page.goto(`${base}/u/${token}`);
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await page.getByRole('heading', { name: 'You are unsubscribed' }).waitFor();
    expect(await inAudience()).toBe(false);
    // …and undone.
    await page.getByRole('button', { name: 'Resubscribe' }).click();
    await page.getByRole('heading', { name: 'You are subscribed again' }).waitFor();
    expect(await inAudience()).toBe(true);
    await page.close();
  });
});
