import type { Config } from '../config.js';
import type { CompileOptions } from '../render/compile-issue.js';
import type { MessageOptions, Recipient } from '../render/types.js';

/** Compile options from the environment contract (SITE_URL, SUBJECT_TEMPLATE, POSTAL_ADDRESS, LIST_NAME). */
export function compileOptionsFrom(config: Config): CompileOptions {
  return {
    siteUrl: config.SITE_URL ?? null,
    subjectTemplate: config.SUBJECT_TEMPLATE,
    postalAddress: config.POSTAL_ADDRESS ?? null,
    listName: config.LIST_NAME,
  };
}

/** Message options for previews: FROM_ADDRESS or a placeholder sender, a List-Id from PUBLIC_URL's host. */
export function previewMessageOptions(config: Config): MessageOptions {
  const host = new URL(config.PUBLIC_URL).hostname.replace(/[^A-Za-z0-9.-]/g, '') || 'localhost';
  return {
    from: config.FROM_ADDRESS ?? `${config.LIST_NAME} <newsletter@example.com>`,
    campaignId: 0,
    listId: `${config.LIST_NAME} <default.${host.includes('.') ? host : `${host}.localdomain`}>`,
  };
}

/** The sample subscriber `render` personalizes for (`--to` replaces the address). */
export function sampleRecipient(config: Config, email = 'subscriber@example.com'): Recipient {
  return { subscriberId: 0, email, name: 'Sample Subscriber', unsubscribeUrl: `${config.PUBLIC_URL}/u/sample-token` };
}
