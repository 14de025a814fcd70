/**
 * GET /u/:token  a small confirmation page; changes nothing (mail scanners prefetch links).
 * POST /u/:token RFC 8058 one-click (`List-Unsubscribe=One-Click`, form-urlencoded or
 *                multipart) or the page's button: unsubscribes at once, 200, no redirect.
 * A tampered or unknown token gets the same 400 page either way, revealing nothing.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Config } from '../../config.js';
import type { Store } from '../../store/db.js';
import { verifyUnsubscribeToken } from '../../unsubscribe/token.js';
import { findUnsubscribeTarget, unsubscribeMember } from '../../unsubscribe/unsubscribe-service.js';

export interface UnsubscribeRoutesOptions {
  config: Pick<Config, 'UNSUBSCRIBE_SECRET' | 'UNSUBSCRIBE_SECRET_OLD' | 'LIST_NAME'>;
  store: Store;
  now?: () => number;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;', '=': '&#61;' };

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`=]/g, (c) => HTML_ESCAPES[c]!);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex,nofollow"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}button{font-size:1rem;padding:.6rem 1.2rem;cursor:pointer}</style>
</head><body>${body}</body></html>`;
}

function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-robots-tag', 'noindex')
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
    .send(html);
}

const INVALID_PAGE = page('Link not valid', '<h1>This link is not valid</h1><p>It may be incomplete or mistyped. Use the unsubscribe link from the most recent email.</p>');

// Token in the path is checked against this shape before anything else touches it.
const MAX_TOKEN_LENGTH = 80;

export const unsubscribeRoutes: FastifyPluginAsync<UnsubscribeRoutesOptions> = async (app, options) => {
  const secrets = [options.config.UNSUBSCRIBE_SECRET, options.config.UNSUBSCRIBE_SECRET_OLD].filter((s): s is string => !!s);
  const now = options.now ?? Date.now;
  const db = options.store.db;

  // The one-click POST carries `List-Unsubscribe=One-Click` as form-urlencoded or multipart;
  // the token alone authorises it, so the body only needs to be accepted, not interpreted.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => done(null, body));

  const claimOf = (token: string) => (token.length <= MAX_TOKEN_LENGTH ? verifyUnsubscribeToken(token, secrets) : null);

  app.get<{ Params: { token: string } }>('/u/:token', async (request, reply) => {
    const claim = claimOf(request.params.token);
    const target = claim ? await findUnsubscribeTarget(db, claim) : null;
    if (!claim || !target) return sendPage(reply, 400, INVALID_PAGE);
    const listName = target.listName === 'default' ? options.config.LIST_NAME : target.listName;
    if (target.membership === 'unsubscribed') {
      return sendPage(reply, 200, page('Unsubscribed', `<h1>You are unsubscribed</h1><p>${escapeHtml(target.email)} no longer receives ${escapeHtml(listName)}.</p>`));
    }
    const action = `/u/${encodeURIComponent(request.params.token)}`;
    return sendPage(
      reply,
      200,
      page(
        'Unsubscribe',
        `<h1>Unsubscribe?</h1><p>Stop sending ${escapeHtml(listName)} to <strong>${escapeHtml(target.email)}</strong>.</p>
<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
      ),
    );
  });

  app.post<{ Params: { token: string } }>('/u/:token', async (request, reply) => {
    const claim = claimOf(request.params.token);
    if (!claim) {
      request.log.info({ ip: request.ip }, 'unsubscribe: invalid token');
      return sendPage(reply, 400, INVALID_PAGE);
    }
    const result = await unsubscribeMember(db, claim, now());
    if (result === 'unknown') return sendPage(reply, 400, INVALID_PAGE);
    if (result === 'unsubscribed') request.log.info({ subscriberId: claim.subscriberId, listId: claim.listId }, 'unsubscribed');
    return sendPage(reply, 200, page('Unsubscribed', '<h1>You are unsubscribed</h1><p>You will not receive further issues of this newsletter.</p>'));
  });
};
