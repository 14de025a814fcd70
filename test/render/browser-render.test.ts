/**
 * A compiled issue in real headless Chromium at phone (375 px) and desktop (600 px) widths:
 * no horizontal scrolling on the phone, visible body text never under 14 px, and a
 * screenshot of each saved under artifacts/ for a person to look at.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser } from 'playwright-core';
import { launchChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIssueFile } from '../../src/issue/parse-issue.js';
import { compileIssue } from '../../src/render/compile-issue.js';
import { renderForRecipient } from '../../src/render/preview.js';
import { corpusFiles } from '../support/corpus.js';
import { EXAMPLE_ISSUE, EXAMPLE_SITE_URL } from '../support/example-issue.js';

const ARTIFACTS = join(import.meta.dirname, '../../artifacts');
const recipient = { subscriberId: 1, email: 'reader@example.com', name: 'Reader', unsubscribeUrl: 'https://news.example.org/u/token' };

/** The example, plus the largest corpus issue (long code blocks and URLs) when the corpus is present. */
function issuesToRender(): Array<{ name: string; file: string; siteUrl: string }> {
  const list = [{ name: 'example', file: EXAMPLE_ISSUE, siteUrl: EXAMPLE_SITE_URL }];
  const corpus = corpusFiles();
  if (corpus.length > 0) {
    const largest = corpus.reduce((a, b) => (statSync(b).size > statSync(a).size ? b : a));
    list.push({ name: 'corpus-largest', file: largest, siteUrl: 'https://lwkd.info' });
  }
  return list;
}

describe('compiled issue in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  for (const { name, file, siteUrl } of issuesToRender()) {
    for (const width of [375, 600]) {
      it(`${name} at ${width}px: no horizontal scroll, text ≥ 14px, screenshot`, async () => {
        const compiled = await compileIssue(parseIssueFile(file, { siteUrl }), { listName: 'Newsletter', postalAddress: 'Example Project, 1 Quay St' });
        const { html } = renderForRecipient(compiled, recipient, 'https://example.org/archive/issue');
        const page = await browser.newPage({ viewport: { width, height: 800 } });
        // Offline: remote images are not fetched (their boxes still lay out from max-width rules).
        await page.route('**/*', (route) => route.abort());
        await page.setContent(html, { waitUntil: 'domcontentloaded' });
        const metrics = await page.evaluate(() => {
          const doc = document.documentElement;
          let smallest = Infinity;
          let smallestText = '';
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            const el = n.parentElement;
            if (!el || !n.textContent?.trim()) continue;
            const rects = el.getClientRects();
            const style = getComputedStyle(el);
            if (rects.length === 0 || style.display === 'none' || style.visibility === 'hidden' || style.opacity === '0' || style.maxHeight === '0px') continue;
            const size = parseFloat(style.fontSize);
            if (size < smallest) {
              smallest = size;
              smallestText = n.textContent.trim().slice(0, 40);
            }
          }
          return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, smallest, smallestText };
        });
        await page.screenshot({ path: join(ARTIFACTS, `email-${name}-${width}.png`), fullPage: true });
        await page.close();
        if (width === 375) expect(metrics.scrollWidth, 'horizontal scroll at 375px').toBeLessThanOrEqual(metrics.clientWidth);
        expect(metrics.smallest, `smallest text: "${metrics.smallestText}"`).toBeGreaterThanOrEqual(14);
        expect(statSync(join(ARTIFACTS, `email-${name}-${width}.png`)).size).toBeGreaterThan(10_000);
      });
    }
  }
});
