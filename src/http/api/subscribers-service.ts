/**
 * SubscribersPort over the store: the subscriber service's rules (suppressions, never
 * resubscribing) plus a search query for the API and the dashboard.
 */
import type { Readable } from 'node:stream';
import { sql } from 'kysely';
import { NotFoundError } from '../../errors.js';
import type { Store } from '../../store/db.js';
import { createSubscriberRepositories } from '../../store/repositories.js';
import { importSubscribersCsv } from '../../subscribers/csv-import.js';
import { addSubscriber, removeSubscriber, showSubscriber, unsubscribeByEmail } from '../../subscribers/subscriber-service.js';
import type { SubscriberQuery, SubscribersPort, SubscriberView } from './ports.js';

/** Escape LIKE wildcards so a search for `a_b%` matches literally. */
function likePattern(q: string): string {
  return `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function createSubscribersService(store: Store): SubscribersPort {
  const repos = createSubscriberRepositories(store.db);
  const db = store.db;

  return {
    async search(query: SubscriberQuery) {
      let base = db.selectFrom('subscribers as s');
      if (query.list) {
        base = base
          .innerJoin('list_members as m', 'm.subscriber_id', 's.id')
          .innerJoin('lists as l', 'l.id', 'm.list_id')
          .where('l.name', '=', query.list) as unknown as typeof base;
      }
      if (query.status) base = base.where('s.status', '=', query.status);
      if (query.q) {
        const pattern = likePattern(query.q);
        base = base.where((eb) =>
          eb.or([
            eb(sql`lower(s.email)`, 'like', sql`${pattern} escape '\\'`),
            eb(sql`lower(coalesce(s.name, ''))`, 'like', sql`${pattern} escape '\\'`),
          ]),
        );
      }
      const [countRow, rows] = await Promise.all([
        base.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
        base.select('s.email').orderBy('s.id').limit(query.limit).offset(query.offset).execute(),
      ]);
      const items: SubscriberView[] = [];
      for (const r of rows) items.push(await showSubscriber(repos, r.email));
      return { items, total: Number(countRow.n) };
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

    async importCsv(csv: Readable, list: string) {
      const target = await repos.lists.ensureList(list);
      return importSubscribersCsv(db, csv, { listId: target.id });
    },

    async unsubscribe(email, list) {
      if (list) return unsubscribeByEmail(repos, email, list, 'api');
      const view = await showSubscriber(repos, email);
      for (const m of view.lists) {
        if (m.status === 'subscribed') await unsubscribeByEmail(repos, email, m.name, 'api');
      }
      // On no list at all: still mark the person unsubscribed (bounced/complained stay as they are).
      const after = await showSubscriber(repos, email);
      if (after.status === 'active') await repos.subscribers.setStatusByEmail(after.email, 'unsubscribed', 'api');
      return showSubscriber(repos, email);
    },

    async remove(email) {
      if (!(await removeSubscriber(repos, email))) throw new NotFoundError(`subscriber ${email}`);
    },
  };
}
