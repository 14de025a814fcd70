import { existsSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { request } from 'undici';
import { createSnsSigningIdentity, type SnsSigningIdentity } from '../../src/simulator/sns-signer.js';
import { signUnsubscribeToken } from '../../src/unsubscribe/token.js';
import { AudienceRepository } from '../../src/store/audience-repository.js';
import { BACKENDS } from '../support/store.js';
import { createHarness, type Harness } from './harness.js';
import { seedList, seedSubscriber } from '../support/seed.js';
import { TEST_UNSUBSCRIBE_SECRET, TEST_UNSUBSCRIBE_SECRET_OLD } from '../support/secrets.js';

let identity: SnsSigningIdentity;
beforeAll(async () => {
  identity = await createSnsSigningIdentity();
});

const CHROMIUM = '/usr/bin/chromium';

describe.each(BACKENDS)('unsubscribe /u/:token (%s)', (dialect) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  async function setup() {
    h = await createHarness(dialect, identity);
    const db = h.store.db;
    const list = await seedList(db, 'weekly <b>"digest"</b>');
    const other = await seedList(db, 'other');
    const sub = await seedSubscriber(db, `o'hara+<script>@example.com`, [list]);
    const multi = await seedSubscriber(db, 'multi@example.com', [list, other]);
    const token = signUnsubscribeToken({ subscriberId: sub, listId: list }, TEST_UNSUBSCRIBE_SECRET);
    return { db, list, other, sub, multi, token };
  }

  const state = async (db: Harness['store']['db'], sub: number, list: number) => ({
    subscriber: (await db.selectFrom('subscribers').select('status').where('id', '=', sub).executeTakeFirstOrThrow()).status,
    membership: (await db.selectFrom('list_members').select('status').where('list_id', '=', list).where('subscriber_id', '=', sub).executeTakeFirstOrThrow()).status,
  });

  it('GET shows an escaped confirmation page with a POST form and changes nothing', async () => {
    const { db, list, sub, token } = await setup();
    for (let i = 0; i < 3; i++) {
      const res = await h.app.inject({ method: 'GET', url: `/u/${token}` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toContain('<form method="post" action="/u/');
      expect(res.body).toContain('o&#39;hara+&lt;script&gt;@example.com');
      expect(res.body).toContain('weekly &lt;b&gt;&quot;digest&quot;&lt;/b&gt;');
      expect(res.body).not.toContain('<script>');
      expect(res.body).not.toContain('<b>');
    }
    expect(await state(db, sub, list)).toEqual({ subscriber: 'active', membership: 'subscribed' });
  });

  it('one-click POST (form-urlencoded) unsubscribes at once with 200 and no redirect; twice is harmless', async () => {
    const { db, list, sub, token } = await setup();
    const audience = new AudienceRepository(db);
    expect(await audience.isMailable(sub, list)).toBe(true);
    const res = await h.app.inject({ method: 'POST', url: `/u/${token}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' });
    expect(res.statusCode).toBe(200);
    // By the time the 200 is answered the next campaign's audience query skips them (latency: bench/webhook.ts).
    expect(await audience.isMailable(sub, list)).toBe(false);
    expect((await audience.audiencePage({ listId: list, afterId: 0, limit: 100 })).map((m) => m.id)).not.toContain(sub);
    expect(res.headers.location).toBeUndefined();
    expect(await state(db, sub, list)).toEqual({ subscriber: 'unsubscribed', membership: 'unsubscribed' });
    const again = await h.app.inject({ method: 'POST', url: `/u/${token}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' });
    expect(again.statusCode).toBe(200);
    expect(await state(db, sub, list)).toEqual({ subscriber: 'unsubscribed', membership: 'unsubscribed' });
    const logged = await db.selectFrom('events').select(['type', 'subscriber_id']).where('type', '=', 'unsubscribe').execute();
    expect(logged).toEqual([{ type: 'unsubscribe', subscriber_id: sub }]);
    // The page now says so, still without changing anything.
    const page = await h.app.inject({ method: 'GET', url: `/u/${token}` });
    expect(page.body).toContain('You are unsubscribed');
  });

  it('one-click POST as multipart/form-data works; the membership of another list is left as it is', async () => {
    const { db, list, other, multi } = await setup();
    const token = signUnsubscribeToken({ subscriberId: multi, listId: list }, TEST_UNSUBSCRIBE_SECRET);
    const boundary = '----x';
    const payload = `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`;
    const res = await h.app.inject({ method: 'POST', url: `/u/${token}`, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, payload });
    expect(res.statusCode).toBe(200);
    // The store's rule: an unsubscribed subscriber is mailed by no list; memberships elsewhere stay recorded.
    expect(await state(db, multi, list)).toEqual({ subscriber: 'unsubscribed', membership: 'unsubscribed' });
    expect(await state(db, multi, other)).toEqual({ subscriber: 'unsubscribed', membership: 'subscribed' });
  });

  it('tokens from the previous secret still work during rotation', async () => {
    const { db, list, sub } = await setup();
    const old = signUnsubscribeToken({ subscriberId: sub, listId: list }, TEST_UNSUBSCRIBE_SECRET_OLD);
    expect((await h.app.inject({ method: 'POST', url: `/u/${old}`, payload: '' })).statusCode).toBe(200);
    expect((await state(db, sub, list)).membership).toBe('unsubscribed');
  });

  it('a forged, tampered or unknown token gets the same 400 and unsubscribes nobody', async () => {
    const { db, list, sub, multi, token } = await setup();
    const [, , mac] = token.split('.');
    const forged = signUnsubscribeToken({ subscriberId: multi, listId: list }, 'guessed-secret');
    const unknown = signUnsubscribeToken({ subscriberId: 999_999, listId: list }, TEST_UNSUBSCRIBE_SECRET);
    const bodies = new Set<string>();
    for (const bad of [`${multi}.${list}.${mac}`, forged, unknown, token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'), 'x', '1.2.3', 'a'.repeat(90)]) {
      for (const method of ['GET', 'POST'] as const) {
        const res = await h.app.inject({ method, url: `/u/${encodeURIComponent(bad)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: method === 'POST' ? 'List-Unsubscribe=One-Click' : undefined });
        expect(res.statusCode, `${method} ${bad.slice(0, 30)}`).toBe(400);
        bodies.add(res.body);
      }
    }
    expect(bodies.size).toBe(1);
    expect([...bodies][0]).not.toMatch(/example\.com|subscriber|list \d/);
    expect(await state(db, sub, list)).toEqual({ subscriber: 'active', membership: 'subscribed' });
    expect(await state(db, multi, list)).toEqual({ subscriber: 'active', membership: 'subscribed' });
  });

  it('a real browser: opening the link changes nothing, pressing the button unsubscribes (real server)', async (ctx) => {
    if (!existsSync(CHROMIUM)) ctx.skip();
    const { db, list, sub, token } = await setup();
    const address = await h.app.listen({ port: 0, host: '127.0.0.1' });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const res = await page.goto(`${address}/u/${token}`);
      expect(res?.status()).toBe(200);
      expect(await page.textContent('strong')).toBe(`o'hara+<script>@example.com`);
      expect(await state(db, sub, list)).toEqual({ subscriber: 'active', membership: 'subscribed' });
      await Promise.all([page.waitForURL(`${address}/u/${token}`), page.click('button[type=submit]')]);
      expect(await page.textContent('h1')).toBe('You are unsubscribed');
      expect(await state(db, sub, list)).toEqual({ subscriber: 'unsubscribed', membership: 'unsubscribed' });
    } finally {
      await browser.close();
    }
    // A plain RFC 8058 client over the network: the same POST again is harmless.
    const again = await request(`${address}/u/${token}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(again.statusCode).toBe(200);
    await again.body.dump();
  });
});
