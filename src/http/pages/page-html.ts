/**
 * The HTTP side of the reader pages: the headers every one is sent with (no cache unless
 * asked, no referrer, and a CSP that refuses any script). The markup and its escaping are
 * src/html/html.ts.
 */
import type { FastifyReply } from 'fastify';

/** `noindex` adds `X-Robots-Tag: noindex` (pages reached through a personal link). */
export function sendHtml(reply: FastifyReply, status: number, html: string, options: { cache?: string; csp?: string; noindex?: boolean } = {}): FastifyReply {
  if (options.noindex) reply.header('x-robots-tag', 'noindex');
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', options.cache ?? 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', options.csp ?? "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    .send(html);
}

/** The display name of a list: `default` is the newsletter itself (LIST_NAME). */
export function displayListName(listName: string, newsletterName: string): string {
  return listName === 'default' ? newsletterName : listName;
}
