/**
 * The small HTML shell of the subscriber pages: every value goes through escapeHtml, no
 * script, and a CSP that would refuse one anyway.
 */
import type { FastifyReply } from 'fastify';
import { escapeHtml } from '../unsubscribe/unsubscribe-routes.js';

export { escapeHtml };

const STYLE = `body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222;line-height:1.5}
label{display:block;font-weight:600;margin:.8rem 0 .2rem}input[type=email],input[type=text]{font-size:1rem;padding:.5rem;width:100%;box-sizing:border-box}
button{font-size:1rem;padding:.6rem 1.2rem;margin-top:1rem;cursor:pointer}.error{color:#a61b1b;font-weight:600}
.hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}a{color:#326ce5}ul.issues{padding-left:1.2rem}`;

export function page(title: string, body: string, options: { noindex?: boolean; head?: string } = {}): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
${options.noindex === false ? '' : '<meta name="robots" content="noindex,nofollow">\n'}<title>${escapeHtml(title)}</title>${options.head ?? ''}
<style>${STYLE}</style>
</head><body><main>${body}</main></body></html>`;
}

export function sendHtml(reply: FastifyReply, status: number, html: string, options: { cache?: string; csp?: string } = {}): FastifyReply {
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
