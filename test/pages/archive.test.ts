import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Parser from 'rss-parser';
import { parseIssueFile } from '../../src/issue/parse-issue.js';
import type { Issue } from '../../src/issue/types.js';
import { compileIssue } from '../../src/render/compile-issue.js';
import { prepareMessages } from '../../src/render/prepare-messages.js';
import type { CompiledIssue } from '../../src/render/types.js';
import { CampaignsRepository } from '../../src/store/campaigns-repository.js';
import type { CampaignStatus } from '../../src/store/schema.js';
import { archiveUrlFor } from '../../src/archive/archive-url.js';
import { renderArchivedIssue } from '../../src/archive/render-archive.js';
import { signUnsubscribeToken } from '../../src/unsubscribe/token.js';
import { corpusFiles } from '../support/corpus.js';
import { EXAMPLE_ISSUE, EXAMPLE_SITE_URL } from '../support/example-issue.js';
import { BACKENDS } from '../support/store.js';
import { createPagesHarness, PUBLIC_URL, type PagesHarness } from './harness.js';

/** Every href in an HTML document, entity-decoded as a browser would. */
function hrefs(html: string): Set<string> {
  const decode = (s: string) =>
    s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e: string) => {
      if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
      return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e.toLowerCase()]!;
    });
  return new Set([...html.matchAll(/\bhref="([^"]*)"/gi)].map((m) => decode(m[1]!)));
}

interface Sample {
  issue: Issue;
  compiled: CompiledIssue;
}

const samples: Sample[] = [];
beforeAll(async () => {
  const files = [EXAMPLE_ISSUE, ...corpusFiles().slice(-2)];
  for (const file of files) {
    const issue = parseIssueFile(file, { siteUrl: file === EXAMPLE_ISSUE ? EXAMPLE_SITE_URL : 'https://lwkd.info' });
    samples.push({ issue, compiled: await compileIssue(issue, { listName: 'Tidewater Weekly', siteUrl: issue.siteUrl }) });
  }
});

describe.each(BACKENDS)('archive (%s)', (dialect) => {
  let h: PagesHarness;
  beforeAll(async () => {
    h = await createPagesHarness(dialect, { worker: false });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function campaign(sample: Sample, status: CampaignStatus, startedAt: number | null, listId: number) {
    const repo = new CampaignsRepository(h.store.db);
    const c = await repo.create({
      listId,
      subject: sample.compiled.meta.title,
      issueTitle: sample.compiled.meta.title,
      issueSlug: sample.compiled.meta.slug,
      issueDate: sample.compiled.meta.date,
      sourcePath: sample.issue.file,
      sourceMarkdown: '',
      compiledJson: JSON.stringify(sample.compiled),
      scheduledAt: null,
      status: 'draft',
    });
    await h.store.db.updateTable('campaigns').set({ status, started_at: startedAt }).where('id', '=', c.id).execute();
    return c.id;
  }

  it('serves every sent issue with all its links and no subscriber address or token; drafts and cancelled sends stay private; the feed parses', async () => {
    const db = h.store.db;
    const now = Date.now();
    const list = await db.insertInto('lists').values({ name: 'default', created_at: now }).returning('id').executeTakeFirstOrThrow();
    const reader = { email: 'reader.one+secret@example.net', name: 'Reader One', subscriberId: 4242 };
    const token = signUnsubscribeToken({ subscriberId: reader.subscriberId, listId: Number(list.id) }, h.config.UNSUBSCRIBE_SECRET!);

    const sent = samples.map((s, i) => ({ s, startedAt: now - (samples.length - i) * 86_400_000 }));
    for (const { s, startedAt } of sent) await campaign(s, 'sent', startedAt, Number(list.id));
    // A private draft and a cancelled send with another slug must not be published.
    const draft = { ...samples[0]!, compiled: { ...samples[0]!.compiled, meta: { ...samples[0]!.compiled.meta, slug: 'secret-draft', title: 'Secret draft' } } };
    await campaign(draft, 'draft', null, Number(list.id));
    await campaign({ ...draft, compiled: { ...draft.compiled, meta: { ...draft.compiled.meta, slug: 'cancelled-one', title: 'Cancelled one' } } }, 'cancelled', now, Number(list.id));

    for (const { s } of sent) {
      // What the subscriber got: their address and token are in the mail…
      const mail = prepareMessages(s.compiled, { from: 'News <news@example.com>', campaignId: 1, listId: `News <list.example.com>`, archiveUrl: archiveUrlFor(PUBLIC_URL, s.compiled.meta.slug) })
        .build({ ...reader, unsubscribeUrl: `${PUBLIC_URL}/u/${token}` })
        .raw.toString('latin1');
      expect(mail).toContain(token.slice(0, 20));

      // …and none of it is in the archive copy.
      const res = await h.app.inject({ method: 'GET', url: `/archive/${encodeURIComponent(s.compiled.meta.slug)}` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
      expect(res.headers['content-security-policy']).not.toMatch(/script-src/);
      const html = res.body;
      expect(html).not.toContain(reader.email);
      expect(html).not.toContain(token);
      expect(html).not.toMatch(/\/u\/\d+\.\d+\./);
      expect(html).not.toMatch(/{{{?(name|email|unsubscribeUrl|archiveUrl)/);
      expect(html).not.toMatch(/nlarchive[0-9a-f]{16}/);
      expect(html).toContain(`<title>`);

      const found = hrefs(html);
      const links = s.issue.links.filter((l) => l.kind === 'link' && l.url !== null);
      expect(links.length).toBeGreaterThan(3);
      for (const l of links) expect(found, `${s.issue.file}: ${l.url}`).toContain(l.url);
      expect(found).toContain(`${PUBLIC_URL}/subscribe`);
      // No "view in browser" link to itself and no unsubscribe link at all.
      expect(found).not.toContain(archiveUrlFor(PUBLIC_URL, s.compiled.meta.slug));
      expect([...found].some((u) => u.includes('/u/'))).toBe(false);
    }

    const index = await h.app.inject({ method: 'GET', url: '/archive' });
    expect(index.statusCode).toBe(200);
    const indexLinks = [...hrefs(index.body)].filter((u) => u.startsWith(`${PUBLIC_URL}/archive/`) && !u.endsWith('feed.xml'));
    expect(indexLinks).toEqual([...sent].reverse().map(({ s }) => archiveUrlFor(PUBLIC_URL, s.compiled.meta.slug)));
    expect(index.body).not.toContain('Secret draft');
    expect(index.body).not.toContain('Cancelled one');
    const slash = await h.app.inject({ method: 'GET', url: '/archive/' });
    expect([slash.statusCode, slash.headers.location]).toEqual([301, '/archive']);
    expect((await h.app.inject({ method: 'GET', url: '/archive/secret-draft' })).statusCode).toBe(404);
    expect((await h.app.inject({ method: 'GET', url: '/archive/cancelled-one' })).statusCode).toBe(404);
    expect((await h.app.inject({ method: 'GET', url: '/archive/%3Cscript%3E' })).body).not.toContain('<script>');

    const feedRes = await h.app.inject({ method: 'GET', url: '/archive/feed.xml' });
    expect(feedRes.statusCode).toBe(200);
    expect(feedRes.headers['content-type']).toBe('application/rss+xml; charset=utf-8');
    const feed = await new Parser().parseString(feedRes.body);
    expect(feed.title).toBe('Tidewater Weekly');
    expect(feed.link).toBe(`${PUBLIC_URL}/archive`);
    expect(feed.items.map((i) => i.link)).toEqual([...sent].reverse().map(({ s }) => archiveUrlFor(PUBLIC_URL, s.compiled.meta.slug)));
    expect(feed.items.map((i) => i.title)).toEqual([...sent].reverse().map(({ s }) => s.compiled.meta.title));
    for (const [i, item] of feed.items.entries()) {
      const { startedAt } = [...sent].reverse()[i]!;
      expect(new Date(item.pubDate!).getTime()).toBe(Math.floor(startedAt / 1000) * 1000);
      expect(item.guid).toBe(item.link);
    }
    expect(feedRes.body).not.toContain(reader.email);
  });

  it('an issue sent to two lists appears once, as its latest send', async () => {
    const db = h.store.db;
    const other = await db.insertInto('lists').values({ name: 'second', created_at: Date.now() }).returning('id').executeTakeFirstOrThrow();
    const s = samples[0]!;
    await campaign({ ...s, compiled: { ...s.compiled, meta: { ...s.compiled.meta, title: 'Resent title' } } }, 'sending', Date.now(), Number(other.id));
    const index = await h.app.inject({ method: 'GET', url: '/archive' });
    const count = [...hrefs(index.body)].filter((u) => u === archiveUrlFor(PUBLIC_URL, s.compiled.meta.slug)).length;
    expect(count).toBe(1);
    expect(index.body).toContain('Resent title');
  });
});

describe('renderArchivedIssue', () => {
  it('neutralises the footer sentence of the project layout', () => {
    const html = renderArchivedIssue(samples[0]!.compiled, { publicUrl: PUBLIC_URL, newsletterName: 'Tidewater <Weekly>' });
    expect(html).toContain('You are reading the web archive of Tidewater &lt;Weekly&gt;. <a href="https://news.example.com/subscribe">Subscribe</a> to get it by email.');
    expect(html).not.toMatch(/Unsubscribe/i);
    expect(html).not.toContain('because you subscribed');
  });

  it('falls back to neutral values in any other template, escaping nothing away', () => {
    const compiled: CompiledIssue = {
      version: 1,
      meta: { title: 'T', date: null, slug: 't' },
      subjectTemplate: 'T',
      htmlTemplate: '<html><body><p>Hello {{name}} ({{email}})</p><a class="u" href="{{unsubscribeUrl}}">Leave</a> or copy {{unsubscribeUrl}}</body></html>',
      textTemplate: '',
      preheader: '',
      warnings: [],
    };
    const html = renderArchivedIssue(compiled, { publicUrl: PUBLIC_URL, newsletterName: 'N' });
    expect(html).toContain('<p>Hello  (you)</p>');
    expect(html).toContain('<a class="u" href="https://news.example.com/subscribe">Subscribe</a> or copy https://news.example.com/subscribe');
    expect(html).toMatch(/^<html><body><div [^>]*>N archive/);
  });
});
