/**
 * The web copy of a sent issue, rendered from its frozen compiled HTML (pure). The
 * template's per-subscriber fields are filled with neutral values, never a real
 * subscriber's: the address reads "you", the name is empty, and the one-click unsubscribe
 * link (which would carry a token) becomes a link to the sign-up form. A slim bar on top
 * links the archive and the form.
 */
import { randomBytes } from 'node:crypto';
import Handlebars from 'handlebars';
import { TEMPLATE_CONSTANTS } from '../render/template-text.js';
import type { CompiledIssue } from '../render/types.js';
import { escapeHtml } from '../http/unsubscribe/unsubscribe-routes.js';

export interface ArchiveRenderOptions {
  /** PUBLIC_URL, no trailing slash. */
  publicUrl: string;
  newsletterName: string;
}

export function renderArchivedIssue(compiled: CompiledIssue, options: ArchiveRenderOptions): string {
  // Letters and digits only, so no escaping can change it and it cannot occur in an issue.
  const unsubscribe = `nlarchive${randomBytes(8).toString('hex')}`;
  const html = Handlebars.compile(compiled.htmlTemplate)({
    ...TEMPLATE_CONSTANTS,
    // No "view in browser" link on the browser copy itself.
    archiveUrl: '',
    name: '',
    email: 'you',
    unsubscribeUrl: unsubscribe,
  });
  const subscribeUrl = escapeHtml(`${options.publicUrl}/subscribe`);
  const withoutToken = html
    // The footer's unsubscribe anchor → a subscribe link (whatever its attributes and text).
    .replace(new RegExp(`<a\\b([^>]*?)href="${unsubscribe}"([^>]*)>[\\s\\S]*?</a>`, 'g'), `<a$1href="${subscribeUrl}"$2>Subscribe</a>`)
    .replaceAll(unsubscribe, subscribeUrl);
  const bar = `<div style="font-family:system-ui,sans-serif;font-size:14px;text-align:center;padding:8px;background:#f5f7fa;border-bottom:1px solid #d9e2ec">${escapeHtml(options.newsletterName)} archive · <a href="${escapeHtml(`${options.publicUrl}/archive`)}">All issues</a> · <a href="${subscribeUrl}">Subscribe</a></div>`;
  const bodyOpen = /<body\b[^>]*>/i.exec(withoutToken);
  if (!bodyOpen) return bar + withoutToken;
  const at = bodyOpen.index + bodyOpen[0].length;
  return withoutToken.slice(0, at) + bar + withoutToken.slice(at);
}
