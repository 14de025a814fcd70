/** RSS 2.0 feed of the archive (pure). Every text value is XML-escaped. */
import { escapeXml } from '../html/html.js';

export interface FeedItem {
  title: string;
  link: string;
  /** Epoch ms. */
  published: number;
  description?: string;
}

export interface FeedChannel {
  title: string;
  /** The archive index. */
  link: string;
  /** The feed's own URL (atom:link rel=self). */
  selfLink: string;
  description: string;
  items: FeedItem[];
}

export function renderRssFeed(channel: FeedChannel): string {
  const items = channel.items
    .map(
      (i) => `<item>
<title>${escapeXml(i.title)}</title>
<link>${escapeXml(i.link)}</link>
<guid isPermaLink="true">${escapeXml(i.link)}</guid>
<pubDate>${new Date(i.published).toUTCString()}</pubDate>${i.description ? `\n<description>${escapeXml(i.description)}</description>` : ''}
</item>`,
    )
    .join('\n');
  const last = channel.items[0]?.published;
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>${escapeXml(channel.title)}</title>
<link>${escapeXml(channel.link)}</link>
<atom:link href="${escapeXml(channel.selfLink)}" rel="self" type="application/rss+xml"/>
<description>${escapeXml(channel.description)}</description>
<language>en</language>${last !== undefined ? `\n<lastBuildDate>${new Date(last).toUTCString()}</lastBuildDate>` : ''}
${items}
</channel>
</rss>
`;
}
