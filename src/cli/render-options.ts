import type { Config } from '../config.js';
import type { MessageOptions, Recipient } from '../render/types.js';

export { compileOptionsFromConfig as compileOptionsFrom } from '../render/options-from-config.js';

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
