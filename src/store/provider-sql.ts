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
  if (!postgres) {
    // SQLite: a simple CASE (the domain computed once, one '=' per domain). The IN-list form
    // below costs ~600 µs per evaluation inside the deliveries counter triggers (SQLite builds
    // each list's ephemeral index anew on every row), i.e. ~0.5 ms of worker CPU per message,
    // whose claim and 'sent' writes each move a row between statuses (issue #15). Same result
    // for every input. 0015 compiles this expression into its triggers when it runs; migration
    // 0023 re-creates them, so databases created before this get it too.
    const arms = Object.entries(PROVIDER_DOMAINS).flatMap(([provider, domains]) => domains.map((d) => sql`when ${sql.lit(d)} then ${sql.lit(provider)}`));
    return sql<MailboxProvider>`(case ${domain} ${sql.join(arms, sql` `)} else ${sql.lit('other')} end)`;
  }
  const whens = Object.entries(PROVIDER_DOMAINS).map(
    ([provider, domains]) => sql`when ${domain} in (${sql.join(domains.map((d) => sql.lit(d)))}) then ${sql.lit(provider)}`,
  );
  return sql<MailboxProvider>`(case ${sql.join(whens, sql` `)} else ${sql.lit('other')} end)`;
}

/** The table migration 0025 fills from PROVIDER_DOMAINS (SQLite): domain → provider. */
export const PROVIDER_DOMAINS_TABLE = 'mailbox_provider_domains';

/** Its rows, in PROVIDER_DOMAINS order; a domain listed twice keeps its first provider, as the CASE form's first matching arm does. */
export function providerDomainRows(): Array<{ domain: string; provider: MailboxProvider }> {
  const seen = new Set<string>();
  return Object.entries(PROVIDER_DOMAINS).flatMap(([provider, domains]) =>
    domains.filter((d) => !seen.has(d) && seen.add(d)).map((domain) => ({ domain, provider: provider as MailboxProvider })),
  );
}

/**
 * SQLite: the same provider as providerOfEmailSql's simple CASE, by one primary-key lookup in
 * PROVIDER_DOMAINS_TABLE instead of one comparison per listed domain (500+ of them, all walked
 * for an address off the list). The ledger counter triggers evaluate it twice per status move,
 * i.e. twice on every claim and every 'sent' write: the CASE cost ~40 µs per claimed row here,
 * the lookup ~2 µs (issue #15). Only valid once migration 0025 has created and filled the table.
 * `column` is a constant of the caller (a column name, `table.column`), never input.
 */
export function providerLookupSqliteSql(column = 'email'): string {
  const col = column.split('.').map((part) => `"${part.replace(/"/g, '""')}"`).join('.');
  return `coalesce((select provider from ${PROVIDER_DOMAINS_TABLE} where domain = substr(${col}, instr(${col}, '@') + 1)), 'other')`;
}
