/**
 * Every campaign mail links its web copy ("view in browser"), and that link serves the
 * issue from the archive: the real send pipeline (worker runtime, SES simulator) and the
 * real archive route.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { simpleParser } from 'mailparser';
import { parseIssueFile } from '../../src/issue/parse-issue.js';
import { compileIssue } from '../../src/render/compile-issue.js';
import { buildApp } from '../../src/http/app.js';
import { campaignPauser } from '../support/campaign-pauser.js';
import { createHarness, type Harness } from '../support/send-harness.js';
import { EXAMPLE_ISSUE, EXAMPLE_SITE_URL } from '../support/example-issue.js';

describe('view in browser', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('each mail links ${PUBLIC_URL}/archive/<slug>, which serves the issue without the reader\'s data', async () => {
    h = await createHarness({ subscribers: 3, sendRate: 50, sim: { keepRaw: true } });
    const issue = parseIssueFile(EXAMPLE_ISSUE, { siteUrl: EXAMPLE_SITE_URL });
    const compiled = await compileIssue(issue, { listName: 'Tidewater Weekly' });
    await h.startWorker();
    const c = await h.ctx.orchestrator.create({
      listId: h.listId,
      subject: compiled.meta.title,
      issueTitle: compiled.meta.title,
      issueSlug: compiled.meta.slug,
      issueDate: compiled.meta.date,
      sourcePath: EXAMPLE_ISSUE,
      sourceMarkdown: '',
      compiledJson: JSON.stringify(compiled),
      scheduledAt: null,
      status: 'draft',
    });
    await h.ctx.orchestrator.start(c.id);
    await h.waitForStatus(c.id, 'sent', 30_000);

    const archiveUrl = `https://news.example.com/archive/${encodeURIComponent(compiled.meta.slug)}`;
    expect(h.sim.messages).toHaveLength(3);
    for (const m of h.sim.messages) {
      const mail = await simpleParser(m.raw);
      expect(mail.html).toContain(`href="${archiveUrl}"`);
      expect(mail.text).toContain(`View in your browser: ${archiveUrl}`);
    }

    const app = await buildApp({ config: h.config, store: h.store, campaignPauser: campaignPauser(h.store), logger: pino({ level: 'silent' }) });
    try {
      const page = await app.inject({ method: 'GET', url: new URL(archiveUrl).pathname });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain(compiled.meta.title);
      for (const email of h.expectedEmails()) expect(page.body).not.toContain(email);
    } finally {
      await app.close();
    }
  });
});
