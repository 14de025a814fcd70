/**
 * GET  /subscribe          the sign-up form (labelled fields, a hidden honeypot)
 * POST /subscribe          form or JSON; ALWAYS the same neutral answer whether the address
 *                          is new, subscribed or suppressed (no address enumeration); a
 *                          per-IP limit answers 429, a per-address limit silently stops mail
 * GET  /confirm/:token     a confirm button; changes nothing (mail scanners prefetch links)
 * POST /confirm/:token     activates the subscriber on the list
 */
import formbody from '@fastify/formbody';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../../config.js';
import type { Store } from '../../store/db.js';
import { HONEYPOT_FIELD, parseSignupForm, type SignupFormValues } from '../../signup/signup-form.js';
import { SignupRateLimit } from '../../signup/signup-rate-limit.js';
import { confirmSignup, requestSignup } from '../../signup/signup-service.js';
import { openRepositories } from '../../store/repositories.js';
import { signupSecrets, verifyConfirmationToken } from '../../signup/signed-links.js';
import { escapeHtml, readerPage as page } from '../../html/html.js';
import { displayListName, sendHtml } from './page-html.js';

export interface SignupRoutesOptions {
  config: Pick<
    Config,
    | 'LIST_NAME'
    | 'QUEUE_PREFIX'
    | 'SIGNUP_LISTS'
    | 'PENDING_EXPIRY_H'
    | 'SIGNUP_RATE_PER_IP'
    | 'SIGNUP_RATE_PER_ADDRESS'
    | 'SIGNUP_SECRET'
    | 'UNSUBSCRIBE_SECRET'
    | 'UNSUBSCRIBE_SECRET_OLD'
  >;
  store: Store;
  redis: Redis;
  /** Put the confirmation mail for this sign-up request on the confirmation queue. */
  enqueueConfirmation: (requestId: number) => Promise<void>;
  now?: () => number;
  /**
   * The neutral answer is never sent sooner than this after the request arrived, so a new
   * address (row + queued mail) cannot be told from a known one by timing. Default 150 ms.
   */
  minResponseMs?: number;
}

export const CHECK_INBOX_MESSAGE =
  'Thanks! If this address can receive the newsletter, a confirmation email is on its way. Open it and press the button inside to complete your subscription.';

const MAX_TOKEN_LENGTH = 80;

export const signupRoutes: FastifyPluginAsync<SignupRoutesOptions> = async (app, options) => {
  const { config } = options;
  const now = options.now ?? Date.now;
  const secrets = signupSecrets(config);
  const repos = openRepositories(options.store, now);
  const limits = new SignupRateLimit(options.redis, config.QUEUE_PREFIX, {
    perIpPerHour: config.SIGNUP_RATE_PER_IP,
    perAddressPerDay: config.SIGNUP_RATE_PER_ADDRESS,
  });
  const newsletter = config.LIST_NAME;
  const lists = config.SIGNUP_LISTS;

  await app.register(formbody, { bodyLimit: 16 * 1024 });

  const formPage = (values: Partial<SignupFormValues> = {}, error?: { field: string; message: string }) => {
    const err = (f: string) => (error?.field === f ? `<p class="error" id="${f}-error" role="alert">${escapeHtml(error.message)}</p>` : '');
    const described = (f: string) => (error?.field === f ? ` aria-invalid="true" aria-describedby="${f}-error"` : '');
    const listField =
      lists.length > 1
        ? `<label for="list">Newsletter</label>${err('list')}<select id="list" name="list">${lists
            .map((l) => `<option value="${escapeHtml(l)}"${values.list === l ? ' selected' : ''}>${escapeHtml(displayListName(l, newsletter))}</option>`)
            .join('')}</select>`
        : err('list');
    return page(
      `Subscribe to ${newsletter}`,
      `<h1>Subscribe to ${escapeHtml(newsletter)}</h1>
<form method="post" action="/subscribe" novalidate>
<label for="email">Email address</label>${err('email')}
<input type="email" id="email" name="email" autocomplete="email" required value="${escapeHtml(values.email ?? '')}"${described('email')}>
<label for="name">Name <span>(optional)</span></label>${err('name')}
<input type="text" id="name" name="name" autocomplete="name" maxlength="200" value="${escapeHtml(values.name ?? '')}"${described('name')}>
${listField}
<div class="hp" aria-hidden="true"><label for="${HONEYPOT_FIELD}">Leave this field empty</label><input type="text" id="${HONEYPOT_FIELD}" name="${HONEYPOT_FIELD}" tabindex="-1" autocomplete="off"></div>
<button type="submit">Subscribe</button>
</form>
<p>We will send you an email to confirm your address. You can unsubscribe at any time with one click.</p>`,
      { noindex: false },
    );
  };

  const CHECK_INBOX_PAGE = page('Check your inbox', `<h1>Check your inbox</h1><p>${escapeHtml(CHECK_INBOX_MESSAGE)}</p>`);
  const TOO_MANY_PAGE = page('Too many attempts', '<h1>Too many sign-ups</h1><p>Too many sign-up attempts came from your network. Please try again later.</p>');

  const wantsJson = (request: FastifyRequest) => (request.headers['content-type'] ?? '').includes('application/json');

  const minResponseMs = options.minResponseMs ?? 150;

  /** The one neutral answer: identical bytes for every outcome, never faster than minResponseMs. */
  const neutral = async (request: FastifyRequest, reply: FastifyReply, startedAt: number) => {
    const wait = startedAt + minResponseMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    return wantsJson(request)
      ? reply.code(202).header('cache-control', 'no-store').send({ status: 'check-your-inbox', message: CHECK_INBOX_MESSAGE })
      : sendHtml(reply, 200, CHECK_INBOX_PAGE);
  };

  app.get('/subscribe', async (_request, reply) => sendHtml(reply, 200, formPage(), { cache: 'no-cache' }));
  app.get('/subscribe/', async (_request, reply) => reply.redirect('/subscribe', 301));

  app.post('/subscribe', async (request, reply) => {
    const startedAt = performance.now();
    const ip = await limits.byIp(request.ip);
    if (!ip.allowed) {
      request.log.info({ ip: request.ip, count: ip.count }, 'sign-up: per-IP limit');
      reply.header('retry-after', String(Math.max(1, Math.ceil(ip.retryAfterMs / 1000))));
      return wantsJson(request)
        ? reply.code(429).send({ status: 'rate-limited', message: 'Too many sign-up attempts; try again later.' })
        : sendHtml(reply, 429, TOO_MANY_PAGE);
    }
    const form = parseSignupForm(request.body, lists);
    if (form.kind === 'bot') {
      request.log.info({ ip: request.ip }, 'sign-up: honeypot filled');
      return neutral(request, reply, startedAt);
    }
    if (form.kind === 'invalid') {
      return wantsJson(request)
        ? reply.code(400).send({ status: 'invalid', field: form.field, message: form.message })
        : sendHtml(reply, 400, formPage(form.values, form));
    }
    const outcome = await requestSignup(
      {
        repos,
        now,
        expiryMs: config.PENDING_EXPIRY_H * 3600_000,
        allowMailTo: async (email) => (await limits.byAddress(email)).allowed,
        enqueueConfirmation: options.enqueueConfirmation,
      },
      form,
    );
    // Logged without the address; the answer does not depend on the outcome.
    request.log.info({ outcome, list: form.list }, 'sign-up');
    return neutral(request, reply, startedAt);
  });

  const INVALID_PAGE = page(
    'Link not valid',
    '<h1>This confirmation link is not valid</h1><p>It may be incomplete or mistyped, so nothing was changed. Copy the whole link from the confirmation email, or <a href="/subscribe">sign up again</a>.</p>',
  );
  const EXPIRED_PAGE = page(
    'Link expired',
    '<h1>This confirmation link has expired</h1><p>Nothing was changed and you are not subscribed. Please <a href="/subscribe">sign up again</a> to get a new link.</p>',
  );
  const REFUSED_PAGE = page(
    'Cannot subscribe',
    '<h1>We cannot subscribe this address</h1><p>Mail to this address bounced or was reported as unwanted, so nothing was changed. Contact us if you think this is a mistake.</p>',
  );

  const check = (token: string) => (token.length <= MAX_TOKEN_LENGTH ? verifyConfirmationToken(token, secrets, now()) : ({ status: 'invalid' } as const));

  app.get<{ Params: { token: string } }>('/confirm/:token', async (request, reply) => {
    const result = check(request.params.token);
    if (result.status === 'invalid') return sendHtml(reply, 400, INVALID_PAGE);
    if (result.status === 'expired') return sendHtml(reply, 410, EXPIRED_PAGE);
    const pending = await repos.signupRequests.find(result.value.requestId);
    if (!pending) return sendHtml(reply, 410, EXPIRED_PAGE);
    const list = displayListName(pending.listName, newsletter);
    if (pending.confirmedAt !== null) {
      return sendHtml(reply, 200, page('Subscribed', `<h1>You are subscribed</h1><p>${escapeHtml(pending.email)} already receives ${escapeHtml(list)}.</p>`));
    }
    const action = `/confirm/${encodeURIComponent(request.params.token)}`;
    return sendHtml(
      reply,
      200,
      page(
        'Confirm your subscription',
        `<h1>Confirm your subscription</h1><p>Send ${escapeHtml(list)} to <strong>${escapeHtml(pending.email)}</strong>?</p>
<form method="post" action="${escapeHtml(action)}"><button type="submit">Confirm subscription</button></form>`,
      ),
    );
  });

  app.post<{ Params: { token: string } }>('/confirm/:token', async (request, reply) => {
    const result = check(request.params.token);
    if (result.status === 'invalid') {
      request.log.info({ ip: request.ip }, 'confirm: invalid token');
      return sendHtml(reply, 400, INVALID_PAGE);
    }
    if (result.status === 'expired') return sendHtml(reply, 410, EXPIRED_PAGE);
    const outcome = await confirmSignup(repos, result.value.requestId, now());
    switch (outcome.kind) {
      case 'confirmed':
      case 'already': {
        if (outcome.kind === 'confirmed') request.log.info({ requestId: result.value.requestId }, 'sign-up confirmed');
        const list = displayListName(outcome.listName, newsletter);
        return sendHtml(reply, 200, page('Subscribed', `<h1>You are subscribed</h1><p>${escapeHtml(outcome.email)} will receive ${escapeHtml(list)}. Welcome!</p>`));
      }
      case 'expired':
      case 'unknown':
        return sendHtml(reply, 410, EXPIRED_PAGE);
      case 'refused':
        return sendHtml(reply, 409, REFUSED_PAGE);
    }
  });
};
