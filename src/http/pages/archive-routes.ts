/**
 * GET /archive            index of sent issues, newest first
 * GET /archive/feed.xml   RSS 2.0 of the latest issues
 * GET /archive/:slug      the issue as sent, with subscriber fields neutralised
 * Public and cacheable; the issue pages run under a CSP that allows images and inline
 * styles (email HTML) but no script at all.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config.js';
import type { Store } from '../../store/db.js';
import { archiveUrlFor } from '../../archive/archive-url.js';
import { openRepositories } from '../../store/repositories.js';
import { renderArchivedIssue } from '../../archive/render-archive.js';
import { renderRssFeed } from '../../archive/archive-feed.js';
import { escapeHtml, readerPage as page } from '../../html/html.js';
import { sendHtml } from './page-html.js';

export interface ArchiveRoutesOptions {
  config: Pick<Config, 'PUBLIC_URL' | 'LIST_NAME'>;
  store: Store;
}

const FEED_ITEMS = 20;
const ISSUE_CSP = "default-src 'none'; img-src * data:; style-src 'unsafe-inline' *; font-src * data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";
const CACHE = 'public, max-age=300';

function displayDate(entry: { issueDate: string | null; sentAt: number }): string {
  const d = entry.issueDate ? new Date(entry.issueDate) : new Date(entry.sentAt);
  return (Number.isNaN(d.getTime()) ? new Date(entry.sentAt) : d).toISOString().slice(0, 10);
}

export const archiveRoutes: FastifyPluginAsync<ArchiveRoutesOptions> = async (app, options) => {
  const archive = openRepositories(options.store).archive;
  const publicUrl = options.config.PUBLIC_URL.replace(/\/+$/, '');
  const name = options.config.LIST_NAME;

  app.get('/archive', async (_request, reply) => {
    const entries = await archive.list();
    const items = entries
      .map((e) => `<li><a href="${escapeHtml(archiveUrlFor(publicUrl, e.slug))}">${escapeHtml(e.title)}</a> <time datetime="${displayDate(e)}">${displayDate(e)}</time></li>`)
      .join('\n');
    const body = `<h1>${escapeHtml(name)}: past issues</h1>
<p><a href="${escapeHtml(`${publicUrl}/subscribe`)}">Subscribe</a> · <a href="${escapeHtml(`${publicUrl}/archive/feed.xml`)}">RSS feed</a></p>
${entries.length === 0 ? '<p>No issues have been sent yet.</p>' : `<ul class="issues">\n${items}\n</ul>`}`;
    const feedLink = `\n<link rel="alternate" type="application/rss+xml" title="${escapeHtml(name)}" href="${escapeHtml(`${publicUrl}/archive/feed.xml`)}">`;
    return sendHtml(reply, 200, page(`${name} archive`, body, { noindex: false, head: feedLink }), { cache: CACHE });
  });

  app.get('/archive/feed.xml', async (_request, reply) => {
    const entries = await archive.list(FEED_ITEMS);
    const items = [];
    for (const e of entries) {
      const issue = await archive.findBySlug(e.slug);
      items.push({ title: e.title, link: archiveUrlFor(publicUrl, e.slug), published: e.sentAt, description: issue?.compiled.preheader });
    }
    const xml = renderRssFeed({
      title: name,
      link: `${publicUrl}/archive`,
      selfLink: `${publicUrl}/archive/feed.xml`,
      description: `Past issues of ${name}`,
      items,
    });
    return reply.code(200).header('content-type', 'application/rss+xml; charset=utf-8').header('cache-control', CACHE).header('x-content-type-options', 'nosniff').send(xml);
  });

  app.get<{ Params: { slug: string } }>('/archive/:slug', async (request, reply) => {
    const slug = request.params.slug;
    if (slug === '') return reply.redirect('/archive', 301); // "/archive/"
    const issue = slug.length <= 300 ? await archive.findBySlug(slug) : undefined;
    if (!issue) {
      return sendHtml(reply, 404, page('Issue not found', `<h1>Issue not found</h1><p>See <a href="${escapeHtml(`${publicUrl}/archive`)}">all issues</a>.</p>`));
    }
    const html = renderArchivedIssue(issue.compiled, { publicUrl, newsletterName: name });
    return sendHtml(reply, 200, html, { cache: CACHE, csp: ISSUE_CSP });
  });
};
