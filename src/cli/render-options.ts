/**
 * Who `render` personalizes for: with `--to` naming a subscriber of `--list`, that
 * subscriber (their list, name and a real signed unsubscribe link, as a send would build
 * it); for any other address, or without a readable database, a sample recipient.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { recipientFor, sampleRecipient, type SenderSettings } from '../campaigns/campaign-message.js';
import type { Config } from '../config.js';
import { InputError } from '../errors.js';
import type { Recipient } from '../render/types.js';
import type { Store } from '../store/db.js';

export { compileOptionsFromConfig as compileOptionsFrom } from '../render/options-from-config.js';

/** FROM_ADDRESS or a placeholder sender (a preview needs no real one), the rest from the config. */
export function renderSender(config: Config): Omit<SenderSettings, 'unsubscribeSecret'> {
  return { from: config.FROM_ADDRESS ?? `${config.LIST_NAME} <newsletter@example.com>`, publicUrl: config.PUBLIC_URL, listName: config.LIST_NAME };
}

export interface RenderRecipient {
  /** The list whose List-Id the message carries (0 when no list is known). */
  listId: number;
  recipient: Recipient;
  /** Set when this is a sample: why (for stderr). */
  sampleBecause?: string;
}

/** The database, if there is one: a SQLite file that does not exist is not created by a preview. */
async function openExistingStore(databaseUrl: string): Promise<Store | null> {
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length).replace(/^\/\//, '');
    if (!path || path === ':memory:' || !existsSync(resolve(path))) return null;
  }
  // Loaded here: `check` and a render without --to need no database code.
  const { openStore } = await import('../store/db.js');
  return openStore(databaseUrl, { migrate: false });
}

export async function resolveRenderRecipient(config: Config, to: string | undefined, listName: string): Promise<RenderRecipient> {
  if (to === undefined) return { listId: 0, recipient: sampleRecipient(config.PUBLIC_URL) };
  const sample = (because: string, listId = 0): RenderRecipient => ({ listId, recipient: sampleRecipient(config.PUBLIC_URL, to), sampleBecause: because });
  const store = await openExistingStore(config.DATABASE_URL);
  if (!store) return sample('there is no database (DATABASE_URL)');
  try {
    const { openRepositories } = await import('../store/repositories.js');
    const repos = openRepositories(store);
    let subscriber, list;
    try {
      [subscriber, list] = await Promise.all([repos.subscribers.findByEmail(to), repos.lists.findByName(listName)]);
    } catch (err) {
      return sample(`the database cannot be read (${(err as Error).message.split('\n')[0]})`);
    }
    if (!subscriber) return sample(`${to} is not a subscriber`, list?.id);
    if (!list) throw new InputError(`no list named "${listName}"`, '--list');
    const membership = await repos.listMembers.find(subscriber.id, list.id);
    if (!membership) throw new InputError(`${to} is not a member of list "${listName}"; they get no message from it`, '--to');
    if (!(await repos.audience.isMailable(subscriber.id, list.id))) {
      const why = membership.status !== 'subscribed' ? 'unsubscribed from' : subscriber.status !== 'active' ? `${subscriber.status}, not mailed by` : 'suppressed, not mailed by';
      throw new InputError(`${to} is ${why} list "${listName}"; they get no message from it`, '--to');
    }
    if (!config.UNSUBSCRIBE_SECRET) throw new InputError(`UNSUBSCRIBE_SECRET is not set: it signs ${to}'s unsubscribe link`);
    return { listId: list.id, recipient: recipientFor({ publicUrl: config.PUBLIC_URL, unsubscribeSecret: config.UNSUBSCRIBE_SECRET }, list.id, subscriber) };
  } finally {
    await store.destroy();
  }
}
