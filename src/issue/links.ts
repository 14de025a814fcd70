/**
 * Link resolution: issues are written for a Jekyll site, so `/2018/images/x.png` means
 * SITE_URL + that path. In an email every link must be absolute.
 */
const ALLOWED = /^(https?:\/\/[^\s/?#]+|mailto:[^\s]+)/i;

export function resolveUrl(href: string, siteUrl: string | null): string | null {
  const h = href.trim();
  if (h === '') return null;
  if (h.startsWith('//')) return `https:${h}`;
  if (h.startsWith('/')) return siteUrl ? `${siteUrl.replace(/\/+$/, '')}${h}` : null;
  if (/^[a-z][a-z0-9+.-]*:/i.test(h)) return h;
  return null;
}

/** True for the destinations an email client can open: absolute http(s) and mailto. */
export function isDeliverableUrl(url: string | null): boolean {
  return url !== null && ALLOWED.test(url);
}
