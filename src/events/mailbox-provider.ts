/**
 * Recipient domain → mailbox provider, from a fixed domain list (no MX lookups: Google
 * Workspace or Microsoft 365 on a company's own domain are `other`). Pure. The labels are a
 * closed set, so they are safe as metric labels and as table keys whatever the address.
 */
export const MAILBOX_PROVIDERS = ['gmail', 'microsoft', 'yahoo', 'apple', 'proton', 'gmx', 'other'] as const;
export type MailboxProvider = (typeof MAILBOX_PROVIDERS)[number];

/** Country suffixes the big consumer brands use (hotmail.co.uk, outlook.fr, yahoo.co.jp, gmx.de, …). */
const COUNTRY_SUFFIXES = [
  'com', 'net', 'org', 'co.uk', 'uk', 'fr', 'de', 'it', 'es', 'nl', 'be', 'at', 'ch', 'ie', 'pt', 'pl', 'cz', 'sk', 'hu',
  'se', 'dk', 'no', 'fi', 'gr', 'ro', 'ru', 'tr', 'ca', 'com.au', 'co.nz', 'co.jp', 'jp', 'co.kr', 'co.in', 'in', 'com.br',
  'com.mx', 'com.ar', 'cl', 'co', 'com.sg', 'com.hk', 'com.tw', 'co.za', 'co.id', 'com.ph', 'com.my', 'com.vn', 'co.th',
  'com.tr', 'com.pe', 'lu', 'li', 'eu', 'us', 'ua', 'lt', 'lv', 'ee', 'si', 'hr', 'rs', 'bg', 'is', 'at', 'com.cn', 'cn',
] as const;

const withCountries = (...names: string[]) => names.flatMap((n) => COUNTRY_SUFFIXES.map((s) => `${n}.${s}`));

/**
 * Every domain of each provider, exact (the store compiles these into its per-provider
 * counts, so the SQL and this module agree by construction).
 */
export const PROVIDER_DOMAINS: Readonly<Record<Exclude<MailboxProvider, 'other'>, readonly string[]>> = {
  gmail: ['gmail.com', 'googlemail.com'],
  microsoft: [...new Set([...withCountries('outlook', 'hotmail', 'live', 'msn'), 'windowslive.com', 'passport.com'])],
  yahoo: [...new Set([...withCountries('yahoo', 'ymail', 'rocketmail'), 'aol.com', 'aol.co.uk', 'aol.de', 'aol.fr', 'aim.com', 'verizon.net'])],
  apple: ['icloud.com', 'me.com', 'mac.com'],
  proton: ['proton.me', 'protonmail.com', 'protonmail.ch', 'pm.me'],
  gmx: [...new Set([...withCountries('gmx'), 'web.de'])],
};

const BY_DOMAIN: ReadonlyMap<string, MailboxProvider> = new Map(
  Object.entries(PROVIDER_DOMAINS).flatMap(([provider, domains]) => domains.map((d) => [d, provider as MailboxProvider] as const)),
);

/** The provider of a domain (any case, a trailing dot allowed); `other` when not on the list. */
export function providerOfDomain(domain: string): MailboxProvider {
  return BY_DOMAIN.get(domain.trim().toLowerCase().replace(/\.$/, '')) ?? 'other';
}

/** The provider of an address (`other` without an `@`). */
export function providerOfEmail(email: string | null | undefined): MailboxProvider {
  if (!email) return 'other';
  const at = email.lastIndexOf('@');
  return at < 0 ? 'other' : providerOfDomain(email.slice(at + 1));
}

export function isMailboxProvider(value: unknown): value is MailboxProvider {
  return typeof value === 'string' && (MAILBOX_PROVIDERS as readonly string[]).includes(value);
}

/**
 * The SMTP status of a bounce or delay: the enhanced code (RFC 3463, `5.7.515`) when the
 * diagnostic or status carries one, else the basic reply code (`550`), else null. Only
 * digits and dots come out, so it is safe to store, count and show.
 */
export function smtpStatusOf(...texts: Array<string | null | undefined>): string | null {
  for (const t of texts) {
    const m = t ? /\b([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(t) : null;
    if (m) return `${m[1]}.${m[2]}.${m[3]}`;
  }
  for (const t of texts) {
    const m = t ? /\b([245]\d\d)\b/.exec(t) : null;
    if (m) return m[1]!;
  }
  return null;
}
