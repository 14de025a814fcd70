/**
 * The web copy of a sent issue, rendered from its frozen compiled HTML (pure). The
 * template's per-subscriber fields are filled with neutral values, never a real
 * subscriber's: the footer's "because <address> subscribed · unsubscribe" sentence becomes
 * an invitation to subscribe; elsewhere the address reads "you", the name is empty and the
 * one-click unsubscribe link (which would carry a token) becomes a link to the sign-up form.
 * A slim bar on top links the archive and the form.
 */
import { randomBytes } from 'node:crypto';
import Handlebars from 'handlebars';
import { TEMPLATE_CONSTANTS } from '../render/template-text.js';
import type { CompiledIssue } from '../render/types.js';
import { escapeHtml } from '../html/html.js';

export interface ArchiveRenderOptions {
  /** PUBLIC_URL, no trailing slash. */
  publicUrl: string;
  newsletterName: string;
}

export function renderArchivedIssue(compiled: CompiledIssue, options: ArchiveRenderOptions): string {
  // Letters and digits only, so no escaping can change them and they cannot occur in an issue.
  const tag = `nlarchive${randomBytes(8).toString('hex')}`;
  const unsubscribe = `${tag}u`;
  const email = `${tag}e`;
  const html = Handlebars.compile(compiled.htmlTemplate)({
    ...TEMPLATE_CONSTANTS,
    // No "view in browser" link on the browser copy itself.
    archiveUrl: '',
    name: '',
    email,
    unsubscribeUrl: unsubscribe,
  });
  const subscribeUrl = escapeHtml(`${options.publicUrl}/subscribe`);
  const invitation = `You are reading the web archive of ${escapeHtml(options.newsletterName)}. <a href="${subscribeUrl}">Subscribe</a> to get it by email.`;
  const neutral = replaceFooterSentence(html, email, unsubscribe, invitation)
    // Wherever else the template used them: the unsubscribe anchor → a subscribe link, the address → "you".
    .replace(new RegExp(`<a\\b([^>]*?)href="${unsubscribe}"([^>]*)>[\\s\\S]*?</a>`, 'g'), `<a$1href="${subscribeUrl}"$2>Subscribe</a>`)
    .replaceAll(unsubscribe, subscribeUrl)
    .replaceAll(email, 'you');
  const bar = `<div style="font-family:system-ui,sans-serif;font-size:14px;text-align:center;padding:8px;background:#f5f7fa;border-bottom:1px solid #d9e2ec">${escapeHtml(options.newsletterName)} archive · <a href="${escapeHtml(`${options.publicUrl}/archive`)}">All issues</a> · <a href="${subscribeUrl}">Subscribe</a></div>`;
  const bodyOpen = /<body\b[^>]*>/i.exec(neutral);
  if (!bodyOpen) return bar + neutral;
  const at = bodyOpen.index + bodyOpen[0].length;
  return neutral.slice(0, at) + bar + neutral.slice(at);
}

/**
 * The footer's "you receive this because <address> subscribed; unsubscribe" sentence means
 * nothing on the web: when one element holds both the address and the unsubscribe link
 * (and no nested block), its content becomes an invitation to subscribe instead.
 */
function replaceFooterSentence(html: string, email: string, unsubscribe: string, replacement: string): string {
  const at = html.indexOf(email);
  if (at < 0) return html;
  const start = html.lastIndexOf('<div', at);
  const end = html.indexOf('</div>', at);
  if (start < 0 || end < 0) return html;
  const openEnd = html.indexOf('>', start) + 1;
  const inner = html.slice(openEnd, end);
  if (openEnd <= 0 || openEnd > at || inner.includes('<div') || !inner.includes(unsubscribe)) return html;
  return html.slice(0, openEnd) + replacement + html.slice(end);
}
