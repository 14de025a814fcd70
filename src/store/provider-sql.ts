/**
 * The mailbox provider of a `deliveries.email` in SQL, compiled from the pure domain list
 * (src/events/mailbox-provider.ts PROVIDER_DOMAINS), so the store's per-provider counts and
 * the module agree by construction. Literals only: constants of that module, never input.
 */
import { PostgresAdapter, sql, type Kysely, type RawBuilder } from 'kysely';
import { PROVIDER_DOMAINS } from '../events/mailbox-provider.js';
import type { MailboxProvider } from '../events/mailbox-provider.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function providerOfEmailSql(db: Kysely<any>, column = 'email'): RawBuilder<MailboxProvider> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const col = sql.ref(column);
  const domain = postgres ? sql`split_part(${col}, '@', 2)` : sql`substr(${col}, instr(${col}, '@') + 1)`;
  const whens = Object.entries(PROVIDER_DOMAINS).map(
    ([provider, domains]) => sql`when ${domain} in (${sql.join(domains.map((d) => sql.lit(d)))}) then ${sql.lit(provider)}`,
  );
  return sql<MailboxProvider>`(case ${sql.join(whens, sql` `)} else ${sql.lit('other')} end)`;
}
