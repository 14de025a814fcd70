import { afterEach, describe, expect, it } from 'vitest';
import { AudienceRepository } from '../../src/store/audience-repository.js';
import { signConfirmationToken, signResubscribeToken } from '../../src/signup/signed-links.js';
import { signUnsubscribeToken } from '../../src/unsubscribe/token.js';
import { BACKENDS } from '../support/store.js';
import { createPagesHarness, FORM, type PagesHarness } from './harness.js';
import { TEST_SIGNUP_SECRET } from '../support/secrets.js';

describe.each(BACKENDS)('resubscribe from the unsubscribe page (%s)', (dialect) => {
  let h: PagesHarness;
  afterEach(async () => {
    await h?.close();
  });

  async function setup() {
    h = await createPagesHarness(dialect, { worker: false });
    const db = h.store.db;
    const now = Date.now();
    const list = Number((await db.insertInto('lists').values({ name: 'default', created_at: now }).returning('id').executeTakeFirstOrThrow()).id);
    const sub = Number(
      (
        await db
          .insertInto('subscribers')
          .values({ email: 'oops@example.com', name: null, status: 'active', attributes: '{}', status_reason: null, created_at: now, updated_at: now })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id,
    );
    await db.insertInto('list_members').values({ list_id: list, subscriber_id: sub, status: 'subscribed', created_at: now, updated_at: now }).execute();
    const token = signUnsubscribeToken({ subscriberId: sub, listId: list }, h.config.UNSUBSCRIBE_SECRET!);
    const mailable = () => new AudienceRepository(db).isMailable(sub, list);
    const unsubscribedAt = async () =>
      Number((await db.selectFrom('list_members').select('updated_at').where('subscriber_id', '=', sub).where('list_id', '=', list).executeTakeFirstOrThrow()).updated_at);
    return { db, list, sub, token, mailable, unsubscribedAt };
  }

  const formOf = (html: string) => {
    const m = /<form method="post" action="([^"]+\/resubscribe)"><input type="hidden" name="r" value="([^"]+)">/.exec(html);
    return m ? { action: m[1]!.replace(/&#61;/g, '='), r: m[2]!.replace(/&#61;/g, '=') } : null;
  };
  const post = (url: string, body: string) => h.app.inject({ method: 'POST', url, headers: FORM, payload: body });

  const mailedOfferOf = (html: string) => /<form method="post" action="([^"]+\/resubscribe-request)">/.exec(html)?.[1] ?? null;

  it('after a mistaken unsubscribe, the signed Resubscribe button in the answer puts the reader back', async () => {
    const { db, sub, token, mailable } = await setup();
    const unsub = await post(`/u/${token}`, 'List-Unsubscribe=One-Click');
    expect(unsub.statusCode).toBe(200);
    expect(await mailable()).toBe(false);
    const form = formOf(unsub.body);
    expect(form).not.toBeNull();
    expect(form!.action).toBe(`/u/${token}/resubscribe`);
    // A later GET of the link (anyone holding it) does not offer the button, only a mailed link.
    const later = (await h.app.inject({ method: 'GET', url: `/u/${token}` })).body;
    expect(formOf(later)).toBeNull();
    expect(mailedOfferOf(later)).toBe(`/u/${token}/resubscribe-request`);

    const res = await post(form!.action, `r=${encodeURIComponent(form!.r)}`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('You are subscribed again');
    expect(await mailable()).toBe(true);
    expect((await db.selectFrom('subscribers').select('status').where('id', '=', sub).executeTakeFirstOrThrow()).status).toBe('active');
    expect(await db.selectFrom('events').select(['type', 'subscriber_id']).where('type', '=', 'resubscribe').execute()).toEqual([{ type: 'resubscribe', subscriber_id: sub }]);
    // Subscribed again: the page asks to unsubscribe, no resubscribe offer.
    const page = await h.app.inject({ method: 'GET', url: `/u/${token}` });
    expect(page.body).toContain('Unsubscribe?');
    expect(formOf(page.body)).toBeNull();
  });

  it('is refused for a complained address, even with a validly signed request', async () => {
    const { db, list, sub, token, mailable } = await setup();
    const unsub = await post(`/u/${token}`, 'List-Unsubscribe=One-Click');
    const form = formOf(unsub.body)!;
    // The complaint arrives after the page was shown.
    await db.updateTable('subscribers').set({ status: 'complained' }).where('id', '=', sub).execute();
    await db.insertInto('suppressions').values({ email: 'oops@example.com', reason: 'complained', detail: null, created_at: Date.now() }).execute();
    const res = await post(form.action, `r=${encodeURIComponent(form.r)}`);
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain('We cannot resubscribe this address');
    expect(await mailable()).toBe(false);
    expect((await db.selectFrom('subscribers').select('status').where('id', '=', sub).executeTakeFirstOrThrow()).status).toBe('complained');
    expect((await db.selectFrom('list_members').select('status').where('subscriber_id', '=', sub).where('list_id', '=', list).executeTakeFirstOrThrow()).status).toBe('unsubscribed');
    // And no offer on the page any more.
    expect(formOf((await h.app.inject({ method: 'GET', url: `/u/${token}` })).body)).toBeNull();
  });

  it('is refused for a bounced subscriber without a suppression row too', async () => {
    const { db, sub, token, mailable, unsubscribedAt } = await setup();
    await post(`/u/${token}`, 'List-Unsubscribe=One-Click');
    await db.updateTable('subscribers').set({ status: 'bounced' }).where('id', '=', sub).execute();
    const r = signResubscribeToken({ subscriberId: sub, listId: (await db.selectFrom('lists').select('id').executeTakeFirstOrThrow()).id }, await unsubscribedAt(), Date.now() + 60_000, TEST_SIGNUP_SECRET);
    const res = await post(`/u/${token}/resubscribe`, `r=${encodeURIComponent(r)}`);
    expect(res.statusCode).toBe(409);
    expect(await mailable()).toBe(false);
  });

  it('needs both a valid unsubscribe token and a fresh signature for that same subscriber and list', async () => {
    const { db, list, sub, token, mailable, unsubscribedAt } = await setup();
    const unsub = await post(`/u/${token}`, 'List-Unsubscribe=One-Click');
    const form = formOf(unsub.body)!;
    const otherToken = signUnsubscribeToken({ subscriberId: sub + 1, listId: list }, h.config.UNSUBSCRIBE_SECRET!);
    const forged = signResubscribeToken({ subscriberId: sub, listId: list }, await unsubscribedAt(), Date.now() + 60_000, 'wrong-secret');
    for (const [url, body] of [
      [form.action, ''],
      [form.action, `r=${encodeURIComponent(forged)}`],
      [form.action, `r=${encodeURIComponent(form.r.slice(0, -1) + (form.r.endsWith('A') ? 'B' : 'A'))}`],
      [`/u/${otherToken}/resubscribe`, `r=${encodeURIComponent(form.r)}`],
      [`/u/${token.slice(0, -2)}xx/resubscribe`, `r=${encodeURIComponent(form.r)}`],
    ] as const) {
      const res = await post(url, body);
      expect(res.statusCode, `${url} ${body}`).toBe(400);
    }
    // Expired signature (the page was left open too long): says so, changes nothing.
    const stale = signResubscribeToken({ subscriberId: sub, listId: list }, await unsubscribedAt(), Date.now() - 1000, TEST_SIGNUP_SECRET);
    const res = await post(form.action, `r=${encodeURIComponent(stale)}`);
    expect(res.statusCode).toBe(410);
    expect(res.body).toContain('Nothing was changed');
    expect(await mailable()).toBe(false);
    expect(await db.selectFrom('events').select('type').where('type', '=', 'resubscribe').execute()).toEqual([]);
  });

  it('the button works once: not after it was used, not after another unsubscribe', async () => {
    const { token, mailable } = await setup();
    const first = formOf((await post(`/u/${token}`, 'List-Unsubscribe=One-Click')).body)!;
    expect((await post(first.action, `r=${encodeURIComponent(first.r)}`)).statusCode).toBe(200);
    expect(await mailable()).toBe(true);
    expect((await post(first.action, `r=${encodeURIComponent(first.r)}`)).statusCode).toBe(400); // used
    const second = formOf((await post(`/u/${token}`, 'List-Unsubscribe=One-Click')).body)!;
    expect(second.r).not.toBe(first.r);
    expect((await post(first.action, `r=${encodeURIComponent(first.r)}`)).statusCode).toBe(400); // bound to the first unsubscribe
    expect(await mailable()).toBe(false);
    // A repeat POST of the link (already unsubscribed) gets no button either.
    const repeat = await post(`/u/${token}`, 'List-Unsubscribe=One-Click');
    expect(formOf(repeat.body)).toBeNull();
    expect(mailedOfferOf(repeat.body)).not.toBeNull();
    expect((await post(second.action, `r=${encodeURIComponent(second.r)}`)).statusCode).toBe(200);
  });

  it('someone else holding the link cannot resubscribe the reader: a later visit only mails a confirmation link', async () => {
    const { db, list, token, mailable } = await setup();
    // The reader unsubscribes (and leaves the instant button alone).
    await post(`/u/${token}`, 'List-Unsubscribe=One-Click');
    // Later, from anywhere, with the link from a forwarded mail:
    const page = (await h.app.inject({ method: 'GET', url: `/u/${token}` })).body;
    expect(formOf(page)).toBeNull();
    const res = await post(mailedOfferOf(page)!, '');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Check your inbox');
    expect(await mailable()).toBe(false); // nothing changed yet
    expect(await h.jobCount()).toBe(1); // a confirmation mail to the reader's own address
    const request = await db.selectFrom('signup_requests').select(['id', 'email', 'list_id', 'expires_at']).executeTakeFirstOrThrow();
    expect({ email: request.email, list: Number(request.list_id) }).toEqual({ email: 'oops@example.com', list });
    // Only the link in that mail (the mailbox) puts the reader back.
    const confirm = signConfirmationToken(Number(request.id), Number(request.expires_at), TEST_SIGNUP_SECRET);
    expect((await post(`/confirm/${confirm}`, '')).statusCode).toBe(200);
    expect(await mailable()).toBe(true);
  });
});
