/**
 * SubscribersPort over the store: the subscriber service's rules (suppressions, never
 * resubscribing) plus the subscriber search (SubscribersRepository.search) for the API and the dashboard.
 */
import type { Readable } from 'node:stream';
import { NotFoundError } from '../../errors.js';
import type { Store } from '../../store/db.js';
import { openRepositories } from '../../store/repositories.js';
import { importSubscribersCsv } from '../../subscribers/csv-import.js';
import { addSubscriber, removeSubscriber, showSubscriber, showSubscribers, unsubscribeByEmail } from '../../subscribers/subscriber-service.js';
import type { SubscriberQuery, SubscribersPort } from './ports.js';

export function createSubscribersService(store: Store): SubscribersPort {
  const repos = openRepositories(store);

  return {
    async search(query: SubscriberQuery) {
      const { emails, total } = await repos.subscribers.search(query);
      return { items: await showSubscribers(repos, emails), total };
    },

    get: (email) => showSubscriber(repos, email),

    async add(input) {
      const result = await addSubscriber(repos, { email: input.email, name: input.name ?? null, listName: input.list });
      if (input.attributes && Object.keys(input.attributes).length > 0) {
        await repos.subscribers.upsert({ email: result.view.email, attributes: input.attributes as Record<string, string> });
        return { ...(await showSubscriber(repos, result.view.email)), created: result.created };
      }
      return { ...result.view, created: result.created };
    },

    async importCsv(csv: Readable, list: string, options = {}) {
      // The list is created only once the header proved valid (a refused file leaves none behind).
      const listId = async () => (await repos.lists.ensureList(list)).id;
      return importSubscribersCsv(repos.subscriberImport, csv, { listId, encoding: options.encoding, source: options.source });
    },

    async unsubscribe(email, list) {
      if (list) return unsubscribeByEmail(repos, email, list, 'api');
      const view = await showSubscriber(repos, email);
      for (const m of view.lists) {
        if (m.status === 'subscribed') await unsubscribeByEmail(repos, email, m.name, 'api');
      }
      // On no list at all: still mark the person unsubscribed (bounced/complained stay as they are).
      const after = await showSubscriber(repos, email);
      if (after.status === 'active' || after.status === 'sunset') await repos.subscribers.setStatusByEmail(after.email, 'unsubscribed', 'api');
      return showSubscriber(repos, email);
    },

    async remove(email) {
      if (!(await removeSubscriber(repos, email))) throw new NotFoundError(`subscriber ${email}`);
    },
  };
}
