import { describe, expect, it } from 'vitest';
import { renderChartSvg } from './chart-svg.js';
import { cumulativeSeries } from './dashboard-queries.js';
import { bucketWidth } from '../../campaigns/progress-buckets.js';
import { escapeHtml, html } from '../../html/html.js';
import { actionsFor, campaignPage, problemsHtml, progressOf, reputationRates, subscribersPage, tokensPage } from './pages.js';
import type { CampaignStatsView, CampaignView } from '../api/ports.js';

const principal = { tokenId: 1, name: 'Ops <script>', role: 'admin' as const };
const campaign: CampaignView = {
  id: 7,
  status: 'sending',
  subject: '<img src=x onerror=alert(1)> & "news"',
  title: 't',
  list: 'weekly',
  total: 1000,
  scheduled_at: null,
  started_at: '2026-11-26T10:00:00.000Z',
  finished_at: null,
  pause_code: null,
  paused_reason: null,
  created_at: '2026-11-26T09:00:00.000Z',
};
const stats: CampaignStatsView = {
  status: 'sending', total: 1000, queued: 400, sent: 600, delivered: 570, bounced: 30, complained: 1,
  unsubscribed: 0, failed: 0, opened: 0, clicked: 0, started_at: campaign.started_at, finished_at: null, rate_per_s: 14,
};

describe('escaping', () => {
  it('escapes every interpolation unless it is SafeHtml', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\``)).toBe('&lt;a href&#61;&quot;x&quot; onclick&#61;&#39;y&#39;&gt;&amp;&#96;');
    expect(html`<td>${'<b>'}</td>${html`<i>${'&'}</i>`}`.value).toBe('<td>&lt;b&gt;</td><i>&amp;</i>');
  });

  it('campaign page shows hostile subjects, bounce reasons and names as text', () => {
    const page = campaignPage(
      {
        campaign,
        stats,
        series: [],
        links: [{ url: 'https://x.example/"><script>alert(1)</script>', human: 1, human_unique: 1, machine: 2, unknown: 0 }],
        problems: [{ type: 'bounce', subtype: 'Permanent', email: 'a"<b>@example.com', detail: '550 <script>x</script>', occurred_at: 0 }],
      },
      { principal, csrf: 'tok"en' },
    );
    expect(page).not.toMatch(/<script>alert|<img src=x|<script>x|<b>@/);
    expect(page).toContain('&lt;img src&#61;x onerror&#61;alert(1)&gt; &amp; &quot;news&quot;');
    expect(page).toContain('550 &lt;script&gt;x&lt;/script&gt;');
    expect(page).toContain('value="tok&quot;en"');
    expect(page).toContain('Ops &lt;script&gt;');
    expect(problemsHtml([]).value).toContain('No bounces');
    const subs = subscribersPage({ q: '"><svg onload=1>', results: { items: [], total: 0 } }, { principal, csrf: 'c' });
    expect(subs).toContain('value="&quot;&gt;&lt;svg onload&#61;1&gt;"');
  });
});

describe('tokens page', () => {
  it("lists each token's email (the workspace's default test recipient), escaped, and nothing where none was given", () => {
    const session = { principal: { tokenId: 1, name: 'root', role: 'admin' as const }, csrf: 'c' };
    const page = tokensPage(
      [
        { id: 1, name: 'Ana', role: 'editor', email: 'ana+<b>@example.org', created_at: 0, last_used_at: null, expires_at: null },
        { id: 2, name: 'ci', role: 'editor', email: null, created_at: 0, last_used_at: null, expires_at: null },
      ],
      session,
    );
    expect(page).toContain('<th>Email</th>');
    expect(page).toContain('<td class="email">ana+&lt;b&gt;@example.org</td>');
    expect(page).toContain('<tr data-token-id="2"><td>2</td><td>ci</td><td>editor</td><td class="email"></td>');
  });
});

describe('reputation rates against SES review thresholds', () => {
  it('colours ok / warn (half the threshold) / bad (at it)', () => {
    expect(reputationRates({ sent: 1000, bounced: 10, complained: 0 })).toMatchObject({ bounceRate: 0.01, bounceLevel: 'ok', complaintLevel: 'ok' });
    expect(reputationRates({ sent: 1000, bounced: 30, complained: 0 }).bounceLevel).toBe('warn');
    expect(reputationRates({ sent: 1000, bounced: 50, complained: 0 }).bounceLevel).toBe('bad');
    expect(reputationRates({ sent: 10000, bounced: 0, complained: 5 }).complaintLevel).toBe('warn');
    expect(reputationRates({ sent: 1000, bounced: 0, complained: 1 }).complaintLevel).toBe('bad');
    expect(reputationRates({ sent: 0, bounced: 0, complained: 0 })).toMatchObject({ bounceRate: 0, complaintRate: 0, bounceLevel: 'ok' });
  });

  it('progress and actions follow the status', () => {
    expect(progressOf(stats)).toBeCloseTo(0.6);
    expect(progressOf({ ...stats, status: 'sent' })).toBe(1);
    expect(progressOf({ ...stats, total: 0 })).toBe(0);
    expect(actionsFor('draft', 'admin')).toEqual({ send: true, unschedule: false, pause: false, resume: false, cancel: true });
    expect(actionsFor('sending', 'admin')).toEqual({ send: false, unschedule: false, pause: true, resume: false, cancel: true });
    expect(actionsFor('paused', 'admin')).toEqual({ send: false, unschedule: false, pause: false, resume: true, cancel: true });
    expect(actionsFor('sent', 'admin')).toEqual({ send: false, unschedule: false, pause: false, resume: false, cancel: false });
  });

  it('offers editors no resume or cancel, whatever the status', () => {
    expect(actionsFor('sending', 'editor')).toEqual({ send: false, unschedule: false, pause: true, resume: false, cancel: false });
    expect(actionsFor('paused', 'editor')).toEqual({ send: false, unschedule: false, pause: false, resume: false, cancel: false });
    // Calling off a pending schedule (back to draft) is the editor's; cancelling the campaign is not.
    expect(actionsFor('scheduled', 'editor')).toEqual({ send: true, unschedule: true, pause: false, resume: false, cancel: false });
  });
});

describe('chart', () => {
  it('cumulates buckets and draws three lines', () => {
    const width = bucketWidth(10_000);
    expect(width).toBe(1000);
    expect(bucketWidth(3_600_000)).toBe(60_000);
    const points = cumulativeSeries(
      [
        { bucket: 0, kind: 'sent', n: 5 },
        { bucket: 2, kind: 'sent', n: 5 },
        { bucket: 2.7, kind: 'delivered', n: 4 }, // REAL from SQLite: floored
        { bucket: 99, kind: 'bounced', n: 1 }, // past the end: last bucket
        { bucket: Number.NaN, kind: 'sent', n: 100 }, // ignored
      ],
      width,
      3000,
    );
    expect(points).toEqual([
      { t: 1000, sent: 5, delivered: 0, bounced: 0 },
      { t: 2000, sent: 5, delivered: 0, bounced: 0 },
      { t: 3000, sent: 10, delivered: 4, bounced: 1 },
    ]);
    const svg = renderChartSvg(points).value;
    expect(svg.match(/<polyline/g)).toHaveLength(3);
    expect(svg).toContain('>10<'); // y-axis maximum
    expect(svg).not.toMatch(/NaN|undefined/);
  });
});
