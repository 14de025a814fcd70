import Handlebars from 'handlebars';
import { stripControl } from './mime.js';
import { TEMPLATE_CONSTANTS } from './template-text.js';
import type { CompiledIssue, Recipient } from './types.js';

/**
 * Render a compiled issue for one recipient as plain strings (CLI `render`, previews, tests).
 * The send path uses prepareMessages instead, which produces the same content as MIME.
 */
export function renderForRecipient(compiled: CompiledIssue, recipient: Recipient, archiveUrl?: string): { subject: string; html: string; text: string } {
  const data = { ...TEMPLATE_CONSTANTS, archiveUrl: archiveUrl ?? '', name: recipient.name ?? '', email: recipient.email, unsubscribeUrl: recipient.unsubscribeUrl };
  return {
    // Cleaned as the Subject header is (prepareMessages), so a preview shows the subject received.
    subject: stripControl(Handlebars.compile(compiled.subjectTemplate, { noEscape: true })(data)),
    html: Handlebars.compile(compiled.htmlTemplate)(data),
    text: Handlebars.compile(compiled.textTemplate, { noEscape: true })(data),
  };
}
