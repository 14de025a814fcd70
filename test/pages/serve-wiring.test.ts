/**
 * The pages as `serve` and `worker` run them: the app context wires the sign-up routes and
 * the confirmation queue, the worker runtime sends the mail. Over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSurfaceHarness, type SurfaceHarness } from '../support/surface-harness.js';
import { sleep } from './harness.js';

describe('serve + worker wiring of the subscriber pages', () => {
  let h: SurfaceHarness;
  beforeAll(async () => {
    h = await createSurfaceHarness();
    await h.startWorker();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('serves the form, mails the confirmation from the worker, and confirms', async () => {
    const form = await fetch(`${h.base}/subscribe`);
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('<label for="email">');
    expect((await fetch(`${h.base}/archive`)).status).toBe(200);
    expect((await fetch(`${h.base}/archive/feed.xml`)).headers.get('content-type')).toContain('application/rss+xml');

    const res = await fetch(`${h.base}/subscribe`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=wired%40example.org' });
    expect(res.status).toBe(200);
    const deadline = Date.now() + 15_000;
    let raw = '';
    while (!raw && Date.now() < deadline) {
      raw = h.sim.messages.find((m) => m.destinations.includes('wired@example.org'))?.raw.toString('latin1') ?? '';
      if (!raw) await sleep(50);
    }
    // The text part is quoted-printable; undo soft breaks before looking for the link.
    const link = /\/confirm\/[0-9]+\.[0-9]+\.[A-Za-z0-9_-]{22}/.exec(raw.replace(/=\r\n/g, ''))?.[0];
    expect(link).toBeDefined();
    const confirmed = await fetch(`${h.base}${link}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(confirmed.status).toBe(200);
    const s = await h.store.db.selectFrom('subscribers').select('status').where('email', '=', 'wired@example.org').executeTakeFirst();
    expect(s?.status).toBe('active');
  });
});
