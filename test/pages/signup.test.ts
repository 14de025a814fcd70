import { afterEach, describe, expect, it } from 'vitest';
import { AudienceRepository } from '../../src/store/audience-repository.js';
import { SignupRequestsRepository } from '../../src/store/signup-requests-repository.js';
import { signConfirmationToken } from '../../src/signup/signed-links.js';
import { signUnsubscribeToken } from '../../src/unsubscribe/token.js';
import { BACKENDS } from '../support/store.js';
import { createPagesHarness, FORM, signUp, sleep, type PagesHarness } from './harness.js';
import { TEST_SIGNUP_SECRET } from '../support/secrets.js';

const HOUR = 3600_000;

describe.each(BACKENDS)('sign-up with double opt-in (%s)', (dialect) => {
  let h: PagesHarness;
  afterEach(async () => {
    await h?.close();
  });

  const db = () => h.store.db;
  const requests = () => db().selectFrom('signup_requests').selectAll().orderBy('id').execute();
  const subscriber = (email: string) => db().selectFrom('subscribers').selectAll().where('email', '=', email).executeTakeFirst();
  async function listId(name = 'default') {
    return (await db().selectFrom('lists').select('id').where('name', '=', name).executeTakeFirstOrThrow()).id;
  }
  async function seed(email: string, status: 'active' | 'sunset' | 'unsubscribed' | 'bounced' | 'complained', membership: 'subscribed' | 'unsubscribed' = 'subscribed') {
    const now = Date.now();
    const list = await db().insertInto('lists').values({ name: 'default', created_at: now }).onConflict((oc) => oc.column('name').doNothing()).execute().then(() => listId());
    const s = await db()
      .insertInto('subscribers')
      .values({ email, name: null, status, attributes: '{}', status_reason: null, created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db().insertInto('list_members').values({ list_id: list, subscriber_id: s.id, status: membership, created_at: now, updated_at: now }).execute();
    return { subscriberId: Number(s.id), listId: Number(list) };
  }

  it('answers new, subscribed, unsubscribed, bounced, complained and suppressed addresses byte-identically; only the new one is mailed', async () => {
    h = await createPagesHarness(dialect);
    await seed('active@example.com', 'active');
    await seed('bounced@example.com', 'bounced');
    await seed('complained@example.com', 'complained');
    await seed('gone@example.com', 'unsubscribed', 'unsubscribed');
    await db().insertInto('suppressions').values({ email: 'suppressed@example.com', reason: 'complained', detail: null, created_at: Date.now() }).execute();

    const addresses = ['new@example.com', 'active@example.com', 'bounced@example.com', 'complained@example.com', 'suppressed@example.com', 'gone@example.com'];
    const answers = [];
    const durations: number[] = [];
    for (const [i, email] of addresses.entries()) {
      const t = performance.now();
      answers.push(await signUp(h, { email, name: 'Ann' }, `198.51.100.${i + 1}`));
      durations.push(performance.now() - t);
    }
    // Padded to a floor, so timing does not tell a new address (insert + queued mail) from a known one.
    for (const d of durations) expect(d).toBeGreaterThanOrEqual(145);
    const bot = await signUp(h, { email: 'bot@example.com', website: 'http://spam.example' }, '198.51.100.99');
    for (const res of [...answers, bot]) {
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toBe(answers[0]!.body);
      expect(res.headers['content-length']).toBe(answers[0]!.headers['content-length']);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect(answers[0]!.body).toContain('Check your inbox');

    // JSON clients get one neutral answer too.
    const json = await Promise.all(
      ['new2@example.com', 'complained@example.com', 'active@example.com'].map((email, i) =>
        h.app.inject({ method: 'POST', url: '/subscribe', remoteAddress: `192.0.2.${i + 1}`, headers: { 'content-type': 'application/json' }, payload: { email } }),
      ),
    );
    for (const res of json) {
      expect(res.statusCode).toBe(202);
      expect(res.body).toBe(json[0]!.body);
    }

    // Mail only for the new addresses and the one who had unsubscribed (they may come back by confirming).
    expect((await requests()).map((r) => r.email).sort()).toEqual(['gone@example.com', 'new2@example.com', 'new@example.com']);
    await h.waitForMails('new@example.com', 1);
    await h.waitForMails('new2@example.com', 1);
    await h.waitForMails('gone@example.com', 1);
    await sleep(300);
    const mailed = h.sim.messages.flatMap((m) => m.destinations).sort();
    expect(mailed).toEqual(['gone@example.com', 'new2@example.com', 'new@example.com']);
    // Nobody new is a subscriber before confirming.
    expect(await subscriber('new@example.com')).toBeUndefined();
  });

  it('the form is accessible and escapes what it echoes back', async () => {
    h = await createPagesHarness(dialect, { worker: false });
    const form = await h.app.inject({ method: 'GET', url: '/subscribe' });
    expect(form.statusCode).toBe(200);
    expect(form.body).toMatch(/<label for="email">Email address<\/label>/);
    expect(form.body).toMatch(/<input type="email" id="email" name="email"/);
    expect(form.body).toMatch(/<label for="name">Name/);
    expect(form.body).toMatch(/<label for="list">Newsletter<\/label>/);
    expect(form.body).toMatch(/<div class="hp" aria-hidden="true">.*tabindex="-1"/);
    const slash = await h.app.inject({ method: 'GET', url: '/subscribe/' });
    expect([slash.statusCode, slash.headers.location]).toEqual([301, '/subscribe']);
    const bad = await signUp(h, { email: '"><script>alert(1)</script>', name: '<img src=x onerror=alert(1)>' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('role="alert"');
    expect(bad.body).toContain('aria-invalid="true"');
    expect(bad.body).not.toContain('<script>alert');
    expect(bad.body).not.toContain('<img src=x');
    expect(bad.body).toContain('&lt;img src&#61;x onerror&#61;alert(1)&gt;');
    const unknownList = await signUp(h, { email: 'a@example.com', list: 'internal-vip' });
    expect(unknownList.statusCode).toBe(400);
    expect(await requests()).toEqual([]);
  });

  it('a filled honeypot creates nothing: no request, no subscriber, no job, no mail', async () => {
    h = await createPagesHarness(dialect);
    const res = await signUp(h, { email: 'bot@example.com', name: 'Bot', website: 'https://buy.example' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Check your inbox');
    await sleep(300);
    expect(await requests()).toEqual([]);
    expect(await subscriber('bot@example.com')).toBeUndefined();
    expect(await h.jobCount()).toBe(0);
    expect(h.sim.messages).toEqual([]);
  });

  it('50 rapid sign-ups from one IP: the first SIGNUP_RATE_PER_IP pass, the rest get 429; another IP is unaffected', async () => {
    h = await createPagesHarness(dialect, { worker: false, env: { SIGNUP_RATE_PER_IP: '10' } });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => signUp(h, { email: `flood${i}@example.com` }, '203.0.113.50')));
    const codes = results.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 200)).toHaveLength(10);
    expect(codes.filter((c) => c === 429)).toHaveLength(40);
    expect(results.find((r) => r.statusCode === 429)!.headers['retry-after']).toMatch(/^\d+$/);
    expect(await requests()).toHaveLength(10);
    expect((await signUp(h, { email: 'neighbour@example.com' }, '203.0.113.51')).statusCode).toBe(200);
    // A forged X-Forwarded-For does not dodge the limit (TRUST_PROXY unset: the header is ignored).
    const spoofed = await h.app.inject({ method: 'POST', url: '/subscribe', remoteAddress: '203.0.113.50', headers: { ...FORM, 'x-forwarded-for': '192.0.2.200' }, payload: 'email=spoof%40example.com' });
    expect(spoofed.statusCode).toBe(429);
  });

  it('one address is mailed at most SIGNUP_RATE_PER_ADDRESS times a day, with the same answer every time', async () => {
    h = await createPagesHarness(dialect, { env: { SIGNUP_RATE_PER_ADDRESS: '2' } });
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await signUp(h, { email: 'Target@Example.com' }, `198.51.100.${10 + i}`));
    for (const a of answers) expect(a.body).toBe(answers[0]!.body);
    expect(await requests()).toHaveLength(2);
    await h.waitForMails('target@example.com', 2);
    await sleep(300);
    expect(h.sim.messages).toHaveLength(2);
  });

  it('confirming activates the subscriber on the list; before that they are in no audience', async () => {
    h = await createPagesHarness(dialect);
    await seed('someone@example.com', 'active'); // the list has an audience already
    const list = await listId();
    await signUp(h, { email: 'Reader@Example.com', name: 'Ada <Lovelace>' });
    const [mail] = await h.waitForMails('reader@example.com', 1);
    expect(mail!.subject).toBe('Confirm your subscription to Tidewater Weekly');
    expect(mail!.from).toBe('Tidewater Weekly <news@example.com>');
    expect(mail!.link.startsWith('https://news.example.com/confirm/')).toBe(true);
    const path = new URL(mail!.link).pathname;

    const audience = new AudienceRepository(db());
    const audienceEmails = async () => (await audience.audiencePage({ listId: list, afterId: 0, limit: 100 })).map((m) => m.email);
    expect(await audienceEmails()).toEqual(['someone@example.com']);

    // GET (what a link scanner does) changes nothing.
    const get = await h.app.inject({ method: 'GET', url: path });
    expect(get.statusCode).toBe(200);
    expect(get.body).toContain('reader@example.com');
    expect(get.body).toMatch(/<form method="post" action="\/confirm\//);
    expect(await subscriber('reader@example.com')).toBeUndefined();
    expect(await audienceEmails()).toEqual(['someone@example.com']);

    const post = await h.app.inject({ method: 'POST', url: path, headers: FORM, payload: '' });
    expect(post.statusCode).toBe(200);
    expect(post.body).toContain('You are subscribed');
    const s = await subscriber('reader@example.com');
    expect(s).toMatchObject({ status: 'active', name: 'Ada <Lovelace>' });
    expect(await audience.isMailable(Number(s!.id), Number(list))).toBe(true);
    expect((await audienceEmails()).sort()).toEqual(['reader@example.com', 'someone@example.com']);
    // A second press is harmless.
    const again = await h.app.inject({ method: 'POST', url: path, headers: FORM, payload: '' });
    expect(again.statusCode).toBe(200);
    expect(await db().selectFrom('list_members').select('status').where('subscriber_id', '=', s!.id).execute()).toEqual([{ status: 'subscribed' }]);
  });

  it('an unsubscribed reader who signs up again and confirms is back on the list', async () => {
    h = await createPagesHarness(dialect);
    const { subscriberId, listId: list } = await seed('back@example.com', 'unsubscribed', 'unsubscribed');
    await signUp(h, { email: 'back@example.com' });
    const [mail] = await h.waitForMails('back@example.com', 1);
    expect(await new AudienceRepository(db()).isMailable(subscriberId, list)).toBe(false);
    const res = await h.app.inject({ method: 'POST', url: new URL(mail!.link).pathname, headers: FORM, payload: '' });
    expect(res.statusCode).toBe(200);
    expect(await new AudienceRepository(db()).isMailable(subscriberId, list)).toBe(true);
  });

  it('a reader set aside as sunset (subscribers inactive --suppress) who signs up again through the form and confirms is back in the audience', async () => {
    h = await createPagesHarness(dialect);
    // Still a subscribed member of the list: only the subscriber's status keeps them out.
    const { subscriberId, listId: list } = await seed('quiet@example.com', 'sunset');
    const audience = new AudienceRepository(db());
    expect(await audience.isMailable(subscriberId, list)).toBe(false);
    const res = await signUp(h, { email: 'quiet@example.com' });
    expect(res.statusCode).toBe(200);
    // Not taken for "already subscribed": a confirmation mail goes out.
    const [mail] = await h.waitForMails('quiet@example.com', 1);
    expect(await audience.isMailable(subscriberId, list)).toBe(false);
    const confirmed = await h.app.inject({ method: 'POST', url: new URL(mail!.link).pathname, headers: FORM, payload: '' });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.body).toContain('You are subscribed');
    expect(await subscriber('quiet@example.com')).toMatchObject({ status: 'active' });
    expect(await audience.isMailable(subscriberId, list)).toBe(true);
  });

  it('an expired link activates nothing and says so; a tampered one is refused plainly', async () => {
    h = await createPagesHarness(dialect);
    await signUp(h, { email: 'late@example.com' });
    const [mail] = await h.waitForMails('late@example.com', 1);
    const path = new URL(mail!.link).pathname;
    const token = path.split('/').pop()!;

    // Tampered: another request id, a flipped MAC character, another purpose's token, garbage.
    const [id, exp, mac] = token.split('.') as [string, string, string];
    const flipped = mac.slice(0, 5) + (mac[5] === 'A' ? 'B' : 'A') + mac.slice(6);
    const unsubscribe = signUnsubscribeToken({ subscriberId: Number(id), listId: 1 }, TEST_SIGNUP_SECRET);
    for (const bad of [`${Number(id) + 1}.${exp}.${mac}`, `${id}.${Number(exp) + 3600}.${mac}`, `${id}.${exp}.${flipped}`, unsubscribe, 'x'.repeat(90), '%3Cscript%3E']) {
      for (const method of ['GET', 'POST'] as const) {
        const res = await h.app.inject({ method, url: `/confirm/${bad}`, headers: FORM, payload: '' });
        expect(res.statusCode).toBe(400);
        expect(res.body).toContain('This confirmation link is not valid');
        expect(res.body).toContain('nothing was changed');
        expect(res.body).not.toContain('<script>');
      }
    }
    expect(await subscriber('late@example.com')).toBeUndefined();

    // Expired: the clock moves past PENDING_EXPIRY_H.
    h.clock.now += h.config.PENDING_EXPIRY_H * HOUR + 1000;
    for (const method of ['GET', 'POST'] as const) {
      const res = await h.app.inject({ method, url: path, headers: FORM, payload: '' });
      expect(res.statusCode).toBe(410);
      expect(res.body).toContain('This confirmation link has expired');
      expect(res.body).toContain('you are not subscribed');
    }
    expect(await subscriber('late@example.com')).toBeUndefined();
    expect((await requests())[0]!.confirmed_at).toBeNull();
  });

  it('a link that expires while the row is still there, and a valid link to a vanished request, activate nothing', async () => {
    h = await createPagesHarness(dialect, { worker: false });
    await signUp(h, { email: 'edge@example.com' });
    const [req] = await requests();
    // Signed by us, but for a request that does not exist.
    const ghost = signConfirmationToken(req!.id + 100, h.clock.now + HOUR, TEST_SIGNUP_SECRET);
    const res = await h.app.inject({ method: 'POST', url: `/confirm/${ghost}`, headers: FORM, payload: '' });
    expect(res.statusCode).toBe(410);
    expect(await subscriber('edge@example.com')).toBeUndefined();
  });

  it('an address that bounced after asking cannot confirm', async () => {
    h = await createPagesHarness(dialect);
    await signUp(h, { email: 'soon-bounced@example.com' });
    const [mail] = await h.waitForMails('soon-bounced@example.com', 1);
    await db().insertInto('suppressions').values({ email: 'soon-bounced@example.com', reason: 'bounced', detail: null, created_at: Date.now() }).execute();
    const res = await h.app.inject({ method: 'POST', url: new URL(mail!.link).pathname, headers: FORM, payload: '' });
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain('We cannot subscribe this address');
    expect(await subscriber('soon-bounced@example.com')).toBeUndefined();
  });

  it('unconfirmed sign-ups expire after PENDING_EXPIRY_H: the cleanup removes exactly the expired ones', async () => {
    h = await createPagesHarness(dialect, { worker: false, env: { PENDING_EXPIRY_H: '2' } });
    const t0 = h.clock.now;
    await signUp(h, { email: 'old@example.com' });
    h.clock.now = t0 + HOUR;
    await signUp(h, { email: 'newer@example.com' });
    expect(await new SignupRequestsRepository(db()).deleteExpired(t0 + 2 * HOUR - 1)).toBe(0);
    expect(await new SignupRequestsRepository(db()).deleteExpired(t0 + 2 * HOUR)).toBe(1);
    expect((await requests()).map((r) => r.email)).toEqual(['newer@example.com']);
    expect(await new SignupRequestsRepository(db()).deleteExpired(t0 + 3 * HOUR)).toBe(1);
    expect(await requests()).toEqual([]);
    expect(await subscriber('old@example.com')).toBeUndefined();
  });
});
