/**
 * Dashboard pages, server-rendered. Pure: data in, SafeHtml out; every value from the
 * store (subjects, addresses, bounce diagnostics, URLs) is escaped by `html`.
 * Live updates: /admin/assets/dashboard.js polls the page's JSON twin every second and
 * swaps in the counters and the fragments rendered by the same functions below.
 */
import type { ActivityView, CampaignStatsView, CampaignView, SubscriberView } from '../api/ports.js';
import { allowedActions } from '../../campaigns/state-machine.js';
import type { Principal, Role } from '../auth.js';
import { campaignActionPermission, may } from '../role-policy.js';
import { renderChartSvg, type SeriesPoint } from './chart-svg.js';
import type { LinkEngagement, ProblemEvent } from './dashboard-queries.js';
import type { ProviderFigures } from '../../campaigns/campaign-health.js';
import { MAILBOX_PROVIDERS } from '../../events/mailbox-provider.js';
import { html, SafeHtml } from '../../html/html.js';

/** SES reviews an account at these rates (bounces 5%, complaints 0.1%). */
export const SES_REVIEW = { bounce: 0.05, complaint: 0.001 } as const;

export type RateLevel = 'ok' | 'warn' | 'bad';

export interface ReputationRates {
  bounceRate: number;
  complaintRate: number;
  bounceLevel: RateLevel;
  complaintLevel: RateLevel;
}

/** Rates over messages SES accepted; warn from half the review threshold, bad at it. */
export function reputationRates(stats: Pick<CampaignStatsView, 'sent' | 'bounced' | 'complained'>): ReputationRates {
  const level = (rate: number, limit: number): RateLevel => (rate >= limit ? 'bad' : rate >= limit / 2 ? 'warn' : 'ok');
  const bounceRate = stats.sent > 0 ? stats.bounced / stats.sent : 0;
  const complaintRate = stats.sent > 0 ? stats.complained / stats.sent : 0;
  return {
    bounceRate,
    complaintRate,
    bounceLevel: level(bounceRate, SES_REVIEW.bounce),
    complaintLevel: level(complaintRate, SES_REVIEW.complaint),
  };
}

/** Share of the audience that needs no more work (0..1). */
export function progressOf(stats: Pick<CampaignStatsView, 'total' | 'queued' | 'status'>): number {
  if (stats.status === 'sent') return 1;
  if (stats.total <= 0) return 0;
  return Math.min(1, Math.max(0, (stats.total - stats.queued) / stats.total));
}

export const percent = (x: number, digits = 1): string => `${(x * 100).toFixed(digits)}%`;

const COUNTERS = ['total', 'queued', 'sent', 'delivered', 'bounced', 'complained', 'unsubscribed', 'failed', 'opened', 'clicked'] as const;

interface LayoutOptions {
  title: string;
  principal?: Principal;
  csrf?: string;
  liveUrl?: string;
  /** Further same-origin scripts of /admin/assets/ (the workspace's). */
  scripts?: string[];
}

export function layout(options: LayoutOptions, body: SafeHtml): string {
  const role = options.principal?.role;
  // Links to what the role may not open are not shown (the server refuses them anyway).
  const nav = options.principal && role
    ? html`<nav><a href="/admin">Campaigns</a>${may(role, 'campaigns.create') ? html`<a href="/admin/campaigns/new">New issue</a>` : ''}<a href="/admin/subscribers">Subscribers</a>${may(role, 'queues.board') ? html`<a href="/admin/queues">Queues</a>` : ''}${may(role, 'tokens.list') ? html`<a href="/admin/tokens">Tokens</a>` : ''}<a href="/admin/api-docs">API docs</a>
<span class="who">${options.principal.name} (${options.principal.role})</span>
<form method="post" action="/admin/logout" class="inline"><input type="hidden" name="_csrf" value="${options.csrf ?? ''}"><button type="submit">Log out</button></form></nav>`
    : '';
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Newsletter</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/admin/assets/dashboard.css"></head>
<body data-live-url="${options.liveUrl ?? ''}" data-csrf="${options.csrf ?? ''}"><header><strong>Newsletter</strong>${nav}</header>
<main>${body}</main><script src="/admin/assets/dashboard.js"></script>${(options.scripts ?? []).map((name) => html`<script src="/admin/assets/${name}"></script>`)}</body></html>`.value}`;
}

export function loginPage(options: { csrf: string; error?: string }): string {
  return layout(
    { title: 'Log in' },
    html`<h1>Log in</h1>
${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
<form method="post" action="/admin/login" class="login">
<input type="hidden" name="_csrf" value="${options.csrf}">
<label>API token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Log in</button></form>
<p class="hint">Create a token with <code>newsletter tokens create --role editor</code> (or <code>--role admin</code> to also resume, cancel, erase subscribers and see tokens and queues).</p>`,
  );
}

function progressBar(stats: CampaignStatsView): SafeHtml {
  const p = progressOf(stats);
  return html`<div class="progress" data-progress><div class="bar" style="width:${(p * 100).toFixed(1)}%"></div><span>${percent(p, 0)}</span></div>`;
}

export interface CampaignRow {
  campaign: CampaignView;
  stats: CampaignStatsView;
}

export function campaignRowsHtml(rows: CampaignRow[]): SafeHtml {
  if (rows.length === 0) return html`<tr><td colspan="6" class="empty">No campaigns yet.</td></tr>`;
  return html`${rows.map(
    ({ campaign: c, stats }) => html`<tr data-campaign-id="${c.id}">
<td>${c.id}</td><td><a href="/admin/campaigns/${c.id}">${c.subject}</a></td><td>${c.list}</td>
<td><span class="status status-${c.status}">${c.status}</span></td>
<td>${progressBar(stats)}<small>${stats.sent} / ${stats.total} sent</small></td><td>${c.created_at.slice(0, 16).replace('T', ' ')}</td></tr>`,
  )}`;
}

export function campaignListPage(rows: CampaignRow[], session: { principal: Principal; csrf: string }): string {
  return layout(
    { title: 'Campaigns', ...session, liveUrl: '/admin/campaigns.json' },
    html`<h1>Campaigns</h1>
<table class="campaigns"><thead><tr><th>#</th><th>Subject</th><th>List</th><th>Status</th><th>Progress</th><th>Created</th></tr></thead>
<tbody data-fragment="rows">${campaignRowsHtml(rows)}</tbody></table>`,
  );
}

/** Per link: all clicks (.num), then human clicks, unique human clickers and machine clicks, never summed together. */
export function linksHtml(links: LinkEngagement[]): SafeHtml {
  if (links.length === 0) return html`<tr><td colspan="5" class="empty">No clicks yet.</td></tr>`;
  return html`${links.map(
    (l) =>
      html`<tr><td class="url">${l.url}</td><td class="num">${l.human + l.machine + l.unknown}</td><td class="human">${l.human}</td><td class="human-unique">${l.human_unique}</td><td class="machine">${l.machine}</td></tr>`,
  )}`;
}

/** Human and machine engagement side by side (each message counts in one class only). */
const ENGAGEMENT_STATS = [
  ['opened_human', 'opened (human)'],
  ['clicked_human', 'clicked (human)'],
  ['opened_machine', 'opened (machine)'],
  ['clicked_machine', 'clicked (machine)'],
  ['opened_unknown', 'opened (unknown)'],
] as const;

function engagementHtml(stats: CampaignStatsView): SafeHtml {
  const cto = stats.click_to_open_human ?? 0;
  return html`<section class="counters engagement">${ENGAGEMENT_STATS.map(
    ([k, label]) => html`<div class="counter"><span class="label">${label}</span><span class="value" data-stat="${k}">${stats[k] ?? 0}</span></div>`,
  )}<div class="counter"><span class="label">click-to-open (human)</span><span class="value" data-stat="click_to_open_human">${cto}</span> <small>${percent(cto)}</small></div></section>`;
}

/** One row per mailbox provider with any mail in this campaign, in the fixed order. */
export function providersHtml(providers: Partial<Record<string, ProviderFigures>> | undefined): SafeHtml {
  const rows = MAILBOX_PROVIDERS.flatMap((name) => {
    const p = providers?.[name];
    return p ? [[name, p] as const] : [];
  });
  if (rows.length === 0) return html`<tr><td colspan="8" class="empty">No mail accepted yet.</td></tr>`;
  return html`${rows.map(([name, p]) => {
    const level = p.bounce_rate >= 0.03 || p.complaint_rate >= 0.003 ? 'bad' : p.bounce_rate >= 0.015 || p.complaint_rate >= 0.0015 ? 'warn' : 'ok';
    return html`<tr data-provider="${name}" class="rate-${level}"><td class="provider">${name}</td><td class="sent">${p.sent}</td><td class="delivered">${p.delivered}</td>
<td class="bounced">${p.bounced}</td><td class="bounce-rate">${percent(p.bounce_rate, 2)}</td><td class="complained">${p.complained}</td>
<td class="deferred">${p.deferred}</td><td class="top-status">${p.top_status ?? '—'}</td></tr>`;
  })}`;
}

export function problemsHtml(events: ProblemEvent[]): SafeHtml {
  if (events.length === 0) return html`<tr><td colspan="4" class="empty">No bounces or complaints.</td></tr>`;
  return html`${events.map(
    (e) => html`<tr class="problem-${e.type}"><td class="when" title="${new Date(e.occurred_at).toISOString()}">${new Date(e.occurred_at).toISOString().slice(11, 19)}</td>
<td>${e.type}${e.subtype ? html` <small>(${e.subtype})</small>` : ''}</td><td>${e.email ?? ''}</td><td class="reason">${e.detail ?? ''}</td></tr>`,
  )}`;
}

export function ratesHtml(stats: CampaignStatsView): SafeHtml {
  const r = reputationRates(stats);
  return html`<div class="rate rate-${r.bounceLevel}" data-rate="bounce"><span class="label">Bounce rate</span>
<span class="value">${percent(r.bounceRate, 2)}</span><small>SES review at ${percent(SES_REVIEW.bounce, 0)}</small></div>
<div class="rate rate-${r.complaintLevel}" data-rate="complaint"><span class="label">Complaint rate</span>
<span class="value">${percent(r.complaintRate, 3)}</span><small>SES review at ${percent(SES_REVIEW.complaint, 1)}</small></div>`;
}

export interface CampaignPageData {
  campaign: CampaignView;
  stats: CampaignStatsView;
  series: SeriesPoint[];
  links: LinkEngagement[];
  problems: ProblemEvent[];
  /** The activity log, oldest first (the full page only). */
  activity?: ActivityView[];
}

export function activityHtml(entries: ActivityView[]): SafeHtml {
  if (entries.length === 0) return html`<tr><td colspan="4" class="empty">No activity recorded.</td></tr>`;
  return html`${entries.map(
    (e) => html`<tr data-activity="${e.action}"><td class="when" title="${e.at}">${e.at.slice(0, 19).replace('T', ' ')}</td><td>${e.action}</td>
<td class="actor">${e.actor.name}${e.actor.name === e.actor.role ? '' : html` <small>(${e.actor.role})</small>`}</td><td>${e.detail ?? ''}</td></tr>`,
  )}`;
}

/** The parts of the campaign page that the live poll replaces, as HTML strings. */
export function campaignFragments(data: CampaignPageData): Record<string, string> {
  return {
    rates: ratesHtml(data.stats).value,
    chart: renderChartSvg(data.series).value,
    links: linksHtml(data.links).value,
    providers: providersHtml(data.stats.providers).value,
    problems: problemsHtml(data.problems).value,
  };
}

function actionButton(c: CampaignView, action: DashboardAction, csrf: string, visible: boolean): SafeHtml {
  const confirm =
    action === 'cancel' ? 'Cancel this campaign for good?'
    : action === 'send' ? 'Send (or schedule) this campaign to the list?'
    : action === 'unschedule' ? 'Call off the scheduled send? The campaign goes back to draft.'
    : '';
  // Send: empty time = now; a time schedules (or moves the schedule), read as UTC.
  // Canary: empty = CANARY_PERCENT (or none); a share sends a first wave and holds the rest.
  const at = action === 'send'
    ? html`<label>at <input type="datetime-local" name="at" step="1"> UTC</label> <label>canary <input type="text" name="canary" inputmode="decimal" size="4" placeholder="e.g. 5%" pattern="\d+(\.\d+)?%?"></label>`
    : '';
  return html`<form method="post" action="/admin/campaigns/${c.id}/${action}" class="inline" data-action="${action}" ${visible ? '' : html`hidden`}>
<input type="hidden" name="_csrf" value="${csrf}">${at}<button type="submit" name="action" value="${action}" data-confirm="${confirm}">${action[0]!.toUpperCase() + action.slice(1)}</button></form>`;
}

/**
 * The dashboard's campaign buttons. Each is rendered only for a role that may take it
 * (role-policy.ts) and shown when the state machine allows it; the server enforces both again.
 */
export const DASHBOARD_ACTIONS = ['send', 'unschedule', 'pause', 'resume', 'cancel'] as const;
export type DashboardAction = (typeof DASHBOARD_ACTIONS)[number];

export function actionsFor(status: CampaignView['status'], role: Role): Record<DashboardAction, boolean> {
  const allowed = allowedActions(status);
  const state: Record<DashboardAction, boolean> = {
    send: allowed.includes('start') || allowed.includes('schedule'),
    unschedule: allowed.includes('unschedule'),
    pause: allowed.includes('pause'),
    resume: allowed.includes('resume'),
    cancel: allowed.includes('cancel'),
  };
  return Object.fromEntries(DASHBOARD_ACTIONS.map((a) => [a, state[a] && may(role, campaignActionPermission(a))])) as Record<DashboardAction, boolean>;
}

export function campaignPage(data: CampaignPageData, session: { principal: Principal; csrf: string }, flash?: string): string {
  const { campaign: c, stats } = data;
  const f = campaignFragments(data);
  const role = session.principal.role;
  const can = actionsFor(stats.status, role);
  return layout(
    { title: c.subject, ...session, liveUrl: `/admin/campaigns/${c.id}/live.json` },
    html`<p><a href="/admin">← Campaigns</a></p>
<h1>${c.subject}</h1>
${flash ? html`<p class="flash" role="status">${flash}</p>` : ''}
<p class="meta">Campaign #${c.id} · list <strong>${c.list}</strong> · status <span class="status status-${stats.status}" data-field="status">${stats.status}</span>
${c.paused_reason ? html` · <span class="paused-reason">${c.paused_reason}</span>` : ''}
· <span data-field="rate_per_s">${stats.rate_per_s}</span> msg/s</p>
${progressBar(stats)}
${stats.canary_text ? html`<p class="canary" data-field="canary_text">${stats.canary_text}</p>` : ''}
<div class="actions">${DASHBOARD_ACTIONS.filter((action) => may(role, campaignActionPermission(action))).map((action) => actionButton(c, action, session.csrf, can[action]))}</div>
${c.scheduled_at ? html`<p class="schedule">Scheduled for <time datetime="${c.scheduled_at}" data-local-time>${c.scheduled_at.slice(0, 19).replace('T', ' ')} UTC</time></p>` : ''}
${(stats.status === 'draft' || stats.status === 'scheduled') && may(role, 'campaigns.create') ? html`<p><a href="/admin/campaigns/${c.id}/edit" class="edit-link">Open in the workspace</a> (edit, preview, test, schedule)</p>` : ''}
<section class="counters">${COUNTERS.map((k) => html`<div class="counter"><span class="label">${k}</span><span class="value" data-stat="${k}">${stats[k]}</span></div>`)}</section>
${engagementHtml(stats)}
<p class="times">Started <span data-field="started_at">${stats.started_at ?? '—'}</span> · finished <span data-field="finished_at">${stats.finished_at ?? '—'}</span></p>
<section class="rates" data-fragment="rates">${new SafeHtml(f.rates!)}</section>
<h2>Mailbox providers</h2>
<table class="providers"><thead><tr><th>Provider</th><th>Sent</th><th>Delivered</th><th>Bounced</th><th>Bounce rate</th><th>Complaints</th><th>Deferred</th><th>Top SMTP status</th></tr></thead><tbody data-fragment="providers">${new SafeHtml(f.providers!)}</tbody></table>
<h2>Sends, deliveries and bounces</h2>
<div class="chart" data-fragment="chart">${new SafeHtml(f.chart!)}</div>
<div class="columns"><section><h2>Most clicked links</h2><table><thead><tr><th>Link</th><th>Clicks</th><th>Human</th><th>Unique humans</th><th>Machine</th></tr></thead><tbody data-fragment="links">${new SafeHtml(f.links!)}</tbody></table></section>
<section><h2>Recent bounces and complaints</h2><table><thead><tr><th>When</th><th>Type</th><th>Address</th><th>Reason</th></tr></thead><tbody data-fragment="problems">${new SafeHtml(f.problems!)}</tbody></table></section></div>
<h2>Activity</h2>
<table class="activity"><thead><tr><th>When (UTC)</th><th>Action</th><th>By</th><th>Detail</th></tr></thead><tbody>${activityHtml(data.activity ?? [])}</tbody></table>`,
  );
}

export function subscribersPage(
  query: { q: string; results: { items: SubscriberView[]; total: number } | null; flash?: string },
  session: { principal: Principal; csrf: string },
): string {
  const r = query.results;
  const erase = may(session.principal.role, 'subscribers.erase');
  const eraseForm = (email: string) =>
    html`<form method="post" action="/admin/subscribers/erase" class="inline" data-action="erase"><input type="hidden" name="_csrf" value="${session.csrf}">
<input type="hidden" name="email" value="${email}"><button type="submit" data-confirm="Erase ${email} and their data? The address stays suppressed.">Erase</button></form>`;
  return layout(
    { title: 'Subscribers', ...session },
    html`<h1>Subscribers</h1>
${query.flash ? html`<p class="flash" role="status">${query.flash}</p>` : ''}
<form method="get" action="/admin/subscribers" class="search"><input type="search" name="q" value="${query.q}" placeholder="email or name" aria-label="search"><button type="submit">Search</button></form>
${
  r
    ? html`<p>${r.total} match${r.total === 1 ? '' : 'es'}${r.total > r.items.length ? html` (first ${r.items.length} shown)` : ''}</p>
<table class="subscribers"><thead><tr><th>Email</th><th>Name</th><th>Status</th><th>Lists</th><th>Since</th>${erase ? html`<th></th>` : ''}</tr></thead><tbody>
${r.items.map((s) => html`<tr><td>${s.email}</td><td>${s.name ?? ''}</td><td><span class="status status-${s.status}">${s.status}</span></td><td>${s.lists.join(', ')}</td><td>${s.created_at.slice(0, 10)}</td>${erase ? html`<td>${eraseForm(s.email)}</td>` : ''}</tr>`)}
</tbody></table>`
    : ''
}`,
  );
}

/** One API token as the dashboard lists it (never the token itself). */
export interface TokenRow {
  id: number;
  name: string;
  role: string;
  /** The holder's address (the workspace's default test recipient), if given at creation. */
  email?: string | null;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
}

const isoMinute = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** The API tokens: role, created, expiry (or "never", or "expired") and last use (to the minute). */
export function tokensPage(tokens: TokenRow[], session: { principal: Principal; csrf: string }, now = Date.now()): string {
  const expiry = (t: TokenRow) =>
    t.expires_at === null ? html`never` : t.expires_at <= now ? html`<span class="status status-failed">expired ${isoMinute(t.expires_at)}</span>` : html`${isoMinute(t.expires_at)}`;
  return layout(
    { title: 'API tokens', ...session },
    html`<h1>API tokens</h1>
<table class="tokens"><thead><tr><th>#</th><th>Name</th><th>Role</th><th>Email</th><th>Created</th><th>Expires</th><th>Last used</th></tr></thead><tbody>
${
  tokens.length === 0
    ? html`<tr><td colspan="7" class="empty">No tokens.</td></tr>`
    : tokens.map(
        (t) => html`<tr data-token-id="${t.id}"><td>${t.id}</td><td>${t.name}</td><td>${t.role}</td><td class="email">${t.email ?? ''}</td><td>${isoMinute(t.created_at)}</td>
<td class="expires">${expiry(t)}</td><td class="last-used">${t.last_used_at === null ? 'never' : isoMinute(t.last_used_at)}</td></tr>`,
      )
}
</tbody></table>
<p class="hint">Create one with <code>newsletter tokens create --role editor|admin --name NAME --email ADDRESS --expires 90d</code> (the email is the workspace's default test recipient); revoke with <code>newsletter tokens revoke ID</code>. Last use is recorded to the minute.</p>`,
  );
}
