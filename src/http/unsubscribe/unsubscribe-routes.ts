/**
 * GET /u/:token  a small confirmation page; changes nothing (mail scanners prefetch links).
 * POST /u/:token RFC 8058 one-click (`List-Unsubscribe=One-Click`, form-urlencoded or
 *                multipart) or the page's button: unsubscribes at once, 200, no redirect.
 * A tampered or unknown token gets the same 400 page either way, revealing nothing.
 *
 * Resubscribing needs more than the unsubscribe link, which sits in every footer and every
 * forwarded mail:
 * - the answer to the POST that unsubscribed (and only that answer) carries an "Unsubscribed
 *   by mistake?" button with a short-lived token bound to that unsubscribe: it works once;
 * - any later visit offers to mail a confirmation link to the address (double opt-in,
 *   through the sign-up confirmation queue and its per-address limit), so only the mailbox
 *   can resubscribe.
 *
 * A reader set aside as `sunset` (no human engagement lately; still on the list) finds a
 * "Keep sending it to me" button on this page, in any past email: POST /u/:token/keep puts
 * them back at once (it was our decision, not theirs, so no confirmation mail is needed).
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Config } from '../../config.js';
import type { Store } from '../../store/db.js';
import { verifyUnsubscribeToken, type UnsubscribeClaim } from '../../unsubscribe/token.js';
import { findUnsubscribeTarget, unsubscribeMember } from '../../unsubscribe/unsubscribe-service.js';
import { signResubscribeToken, signupSecrets, verifyResubscribeToken } from '../../signup/signed-links.js';
import { resubscribe, resubscribeState, resubscribeStateOf } from '../../signup/resubscribe-service.js';
import { requestSignup } from '../../signup/signup-service.js';
import { SignupRateLimit } from '../../signup/signup-rate-limit.js';
import type { SignupRoutesOptions } from '../pages/signup-routes.js';
import { escapeHtml, readerPage as page } from '../../html/html.js';
import { sendHtml } from '../pages/page-html.js';
import { openRepositories } from '../../store/repositories.js';
import { endSunset } from '../../subscribers/list-hygiene.js';

export interface UnsubscribeRoutesOptions {
  config: Pick<Config, 'UNSUBSCRIBE_SECRET' | 'UNSUBSCRIBE_SECRET_OLD' | 'LIST_NAME' | 'QUEUE_PREFIX' | 'PENDING_EXPIRY_H' | 'SIGNUP_RATE_PER_IP' | 'SIGNUP_RATE_PER_ADDRESS'> &
    Partial<Pick<Config, 'SIGNUP_SECRET'>>;
  store: Store;
  /** The sign-up confirmation machinery; without it a later visit offers no resubscribe. */
  signup?: Pick<SignupRoutesOptions, 'redis' | 'enqueueConfirmation'>;
  now?: () => number;
}

// Personal links: never indexed, whatever a crawler was handed.
const sendPage = (reply: FastifyReply, status: number, html: string): FastifyReply => sendHtml(reply, status, html, { noindex: true });

const INVALID_PAGE = page('Link not valid', '<h1>This link is not valid</h1><p>It may be incomplete or mistyped. Use the unsubscribe link from the most recent email.</p>');

// Token in the path is checked against this shape before anything else touches it.
/** How long the instant resubscribe button works after the unsubscribe it answers. */
const RESUBSCRIBE_BUTTON_MS = 15 * 60_000;
const MAX_TOKEN_LENGTH = 80;

export const unsubscribeRoutes: FastifyPluginAsync<UnsubscribeRoutesOptions> = async (app, options) => {
  const secrets = [options.config.UNSUBSCRIBE_SECRET, options.config.UNSUBSCRIBE_SECRET_OLD].filter((s): s is string => !!s);
  const now = options.now ?? Date.now;
  const repos = openRepositories(options.store, now);

  // The one-click POST carries `List-Unsubscribe=One-Click` as form-urlencoded or multipart;
  // the token alone authorises it, so the body only needs to be accepted, not interpreted.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => done(null, body));

  const claimOf = (token: string) => (token.length <= MAX_TOKEN_LENGTH ? verifyUnsubscribeToken(token, secrets) : null);

  let resubscribeSecrets: string[] = [];
  try {
    resubscribeSecrets = signupSecrets({ SIGNUP_SECRET: undefined, ...options.config });
  } catch {
    // No secret configured: no resubscribe offer (and no valid unsubscribe tokens either).
  }
  const limits = options.signup
    ? new SignupRateLimit(options.signup.redis, options.config.QUEUE_PREFIX, {
        perIpPerHour: options.config.SIGNUP_RATE_PER_IP,
        perAddressPerDay: options.config.SIGNUP_RATE_PER_ADDRESS,
      })
    : null;
  const tokenPath = (token: string, rest = '') => escapeHtml(`/u/${encodeURIComponent(token)}${rest}`);

  /** In the answer to the POST that just unsubscribed: a one-time button bound to that unsubscribe. */
  const instantResubscribeForm = async (token: string, claim: UnsubscribeClaim): Promise<string> => {
    const standing = await repos.listMembers.standing(claim.subscriberId, claim.listId);
    if (resubscribeSecrets.length === 0 || resubscribeStateOf(standing) !== 'eligible' || standing?.membership !== 'unsubscribed') return '';
    const r = signResubscribeToken(claim, standing.updatedAt, now() + RESUBSCRIBE_BUTTON_MS, resubscribeSecrets[0]!);
    return `\n<h2>Unsubscribed by mistake?</h2><form method="post" action="${tokenPath(token, '/resubscribe')}"><input type="hidden" name="r" value="${escapeHtml(r)}"><button type="submit">Resubscribe</button></form>`;
  };

  /** On any later visit: mail a confirmation link to the address (double opt-in). */
  const mailedResubscribeOffer = async (token: string, claim: UnsubscribeClaim): Promise<string> => {
    if (!options.signup || resubscribeSecrets.length === 0 || (await resubscribeState(repos.listMembers, claim)) !== 'eligible') return '';
    return `\n<h2>Unsubscribed by mistake?</h2><p>We can email you a link to subscribe again.</p><form method="post" action="${tokenPath(token, '/resubscribe-request')}"><button type="submit">Email me a link</button></form>`;
  };

  app.get<{ Params: { token: string } }>('/u/:token', async (request, reply) => {
    const claim = claimOf(request.params.token);
    const target = claim ? await findUnsubscribeTarget(repos.listMembers, claim) : null;
    if (!claim || !target) return sendPage(reply, 400, INVALID_PAGE);
    const listName = target.listName === 'default' ? options.config.LIST_NAME : target.listName;
    if (target.membership === 'unsubscribed') {
      const offer = await mailedResubscribeOffer(request.params.token, claim);
      return sendPage(reply, 200, page('Unsubscribed', `<h1>You are unsubscribed</h1><p>${escapeHtml(target.email)} no longer receives ${escapeHtml(listName)}.</p>${offer}`));
    }
    const action = `/u/${encodeURIComponent(request.params.token)}`;
    const standing = await repos.listMembers.standing(claim.subscriberId, claim.listId);
    const keep =
      standing?.status === 'sunset' && !standing.suppressed
        ? `<h2>Still reading?</h2><p>We stopped sending ${escapeHtml(listName)} to ${escapeHtml(target.email)} because we could not tell whether it is still read.</p>
<form method="post" action="${tokenPath(request.params.token, '/keep')}"><button type="submit">Keep sending it to me</button></form>`
        : '';
    return sendPage(
      reply,
      200,
      page(
        'Unsubscribe',
        `<h1>Unsubscribe?</h1><p>Stop sending ${escapeHtml(listName)} to <strong>${escapeHtml(target.email)}</strong>.</p>
<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>${keep}`,
      ),
    );
  });

  app.post<{ Params: { token: string } }>('/u/:token', async (request, reply) => {
    const claim = claimOf(request.params.token);
    if (!claim) {
      request.log.info({ ip: request.ip }, 'unsubscribe: invalid token');
      return sendPage(reply, 400, INVALID_PAGE);
    }
    const result = await unsubscribeMember(repos, claim, now());
    if (result === 'unknown') return sendPage(reply, 400, INVALID_PAGE);
    if (result === 'unsubscribed') request.log.info({ subscriberId: claim.subscriberId, listId: claim.listId }, 'unsubscribed');
    // The instant button only for the request that unsubscribed; a repeat POST (anyone with
    // the link) gets the mailed offer, as a later visit does.
    const offer = result === 'unsubscribed' ? await instantResubscribeForm(request.params.token, claim) : await mailedResubscribeOffer(request.params.token, claim);
    return sendPage(reply, 200, page('Unsubscribed', `<h1>You are unsubscribed</h1><p>You will not receive further issues of this newsletter.</p>${offer}`));
  });

  app.post<{ Params: { token: string } }>('/u/:token/keep', async (request, reply) => {
    const claim = claimOf(request.params.token);
    if (!claim) return sendPage(reply, 400, INVALID_PAGE);
    const result = await endSunset(repos, claim, now());
    if (result === 'unknown') return sendPage(reply, 400, INVALID_PAGE);
    if (result === 'reactivated') request.log.info({ subscriberId: claim.subscriberId, listId: claim.listId }, 'sunset undone by the reader');
    return result === 'reactivated'
      ? sendPage(reply, 200, page('Welcome back', '<h1>You will receive it again</h1><p>The next issue comes to you as before.</p>'))
      : sendPage(reply, 409, page('Nothing to change', '<h1>Nothing to change</h1><p>This address is not set aside for inactivity, so nothing was changed.</p>'));
  });

  app.post<{ Params: { token: string } }>('/u/:token/resubscribe', async (request, reply) => {
    const claim = claimOf(request.params.token);
    const r = new URLSearchParams(typeof request.body === 'string' ? request.body : '').get('r') ?? '';
    const standing = claim ? await repos.listMembers.standing(claim.subscriberId, claim.listId) : undefined;
    // Bound to the unsubscribe it answered: once used (or after another unsubscribe) the time differs.
    const check = claim && standing ? verifyResubscribeToken(r, claim, standing.updatedAt, resubscribeSecrets, now()) : ({ status: 'invalid' } as const);
    if (!claim || check.status === 'invalid') return sendPage(reply, 400, INVALID_PAGE);
    if (check.status === 'expired') {
      return sendPage(reply, 410, page('Link expired', `<h1>This page has expired</h1><p>Nothing was changed. <a href="${tokenPath(request.params.token)}">Open the page again</a> to have a resubscribe link emailed to you.</p>`));
    }
    const result = await resubscribe(repos, claim, now());
    if (result === 'unknown') return sendPage(reply, 400, INVALID_PAGE);
    if (result === 'refused') {
      return sendPage(reply, 409, page('Cannot resubscribe', '<h1>We cannot resubscribe this address</h1><p>Mail to this address bounced or was reported as unwanted, so nothing was changed.</p>'));
    }
    if (result === 'resubscribed') request.log.info({ subscriberId: claim.subscriberId, listId: claim.listId }, 'resubscribed');
    return sendPage(reply, 200, page('Subscribed again', '<h1>You are subscribed again</h1><p>Welcome back: you will receive the next issues of this newsletter.</p>'));
  });

  app.post<{ Params: { token: string } }>('/u/:token/resubscribe-request', async (request, reply) => {
    const claim = claimOf(request.params.token);
    const standing = claim ? await repos.listMembers.standing(claim.subscriberId, claim.listId) : undefined;
    if (!claim || !standing || !options.signup || !limits || resubscribeSecrets.length === 0) return sendPage(reply, 400, INVALID_PAGE);
    if (resubscribeStateOf(standing) === 'refused') {
      return sendPage(reply, 409, page('Cannot resubscribe', '<h1>We cannot resubscribe this address</h1><p>Mail to this address bounced or was reported as unwanted, so nothing was changed.</p>'));
    }
    const signup = options.signup;
    // The same path as the public form: a pending request, a confirmation mail (per-address
    // limit), and nothing changes until the link in that mail is followed.
    const outcome = await requestSignup(
      {
        repos,
        now,
        expiryMs: options.config.PENDING_EXPIRY_H * 3600_000,
        allowMailTo: async (email) => (await limits.byAddress(email)).allowed,
        enqueueConfirmation: signup.enqueueConfirmation,
      },
      { email: standing.email, name: null, list: standing.listName },
    );
    request.log.info({ subscriberId: claim.subscriberId, listId: claim.listId, outcome }, 'resubscribe requested');
    return sendPage(
      reply,
      200,
      page('Check your inbox', `<h1>Check your inbox</h1><p>If ${escapeHtml(standing.email)} can receive the newsletter again, a confirmation email is on its way. Open it and press the button inside to resubscribe.</p>`),
    );
  });
};
