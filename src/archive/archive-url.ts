/** The "view in browser" URL of an issue; the send pipeline passes it as MessageOptions.archiveUrl. */
export function archiveUrlFor(publicUrl: string, slug: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/archive/${encodeURIComponent(slug)}`;
}
