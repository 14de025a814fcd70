/**
 * /admin: the delivery dashboard and bull-board, for editors and admins.
 *
 * Login takes an editor or admin API token once and exchanges it for a session (which
 * carries the token's name and role): an opaque random id
 * in an HttpOnly, SameSite=Strict cookie (Secure when the request came over https),
 * resolved in Redis. Every state-changing request must carry the session's CSRF
 * synchronizer token (`_csrf` field or `x-csrf-token` header), bull-board's API calls
 * included: its UI (axios) echoes the `XSRF-TOKEN` cookie, which holds that same token and
 * is set on bull-board's pages only, as an `X-XSRF-TOKEN` header on same-origin requests.
 * SameSite=Strict and a same-origin check come on top. No basic auth anywhere.
 *
 * Also here, behind the login: the API token list (/admin/tokens: expiry and last use,
 * never the tokens) and the OpenAPI reference (/admin/api-docs).
 *
 * Roles: every route behind the login needs a permission (src/http/role-policy.ts, the
 * table the API reads too): its `config.permission`, bull-board's `queues.board`, else
 * `dashboard.view`. A session whose role lacks it gets 403 before anything runs, whatever
 * CSRF token it presents; the pages hide what the role may not do.
 */
import { parseCanaryPercent } from '../../campaigns/canary-wave.js';
import { readFileSync } from 'node:fs';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import swaggerUi from '@fastify/swagger-ui';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NewsletterError } from '../../errors.js';
import { isLive } from '../../campaigns/state-machine.js';
import type { CampaignsPort, SubscribersPort } from '../api/ports.js';
import { AuthError, type Principal, type TokenVerifier } from '../auth.js';
import { campaignActionPermission, may, type Permission } from '../role-policy.js';
import { tokenActor } from '../../campaigns/campaign-activity.js';
import type { DashboardQueries } from './dashboard-queries.js';
import { escapeHtml } from '../../html/html.js';
import { httpStatusOf } from '../error-status.js';
import {
  actionsFor,
  campaignFragments,
  campaignListPage,
  campaignPage,
  campaignRowsHtml,
  DASHBOARD_ACTIONS,
  loginPage,
  progressOf,
  subscribersPage,
  tokensPage,
  type CampaignPageData,
  type TokenRow,
} from './pages.js';
import { randomToken, safeEqual, type Session, type SessionStore } from './sessions.js';
import type { PreviewDocuments } from './preview-documents.js';
import { registerWorkspaceRoutes } from './workspace-routes.js';
import type { TestSendLimit } from '../api/test-send-limit.js';

export interface AdminDeps {
  campaigns: CampaignsPort;
  subscribers: SubscribersPort;
  verifyToken: TokenVerifier;
  sessions: SessionStore;
  queries: DashboardQueries;
  /** Queues shown in bull-board at /admin/queues. */
  queues?: Queue[];
  /** Whether the session's token still exists (and has not expired); revoking a token ends its sessions. */
  tokenExists?: (id: number) => Promise<boolean>;
  /** The API tokens for /admin/tokens. */
  listTokens?: () => Promise<TokenListItem[]>;
  /** Login attempts per IP per minute (default 20). */
  loginRateLimit?: number;
  /** PUBLIC_URL: when https, session cookies are always Secure. */
  publicUrl?: string;
  /** The workspace's preview documents; without it the workspace (/admin/campaigns/new, …/edit) is off. */
  previews?: PreviewDocuments;
  /** TEST_SENDS_PER_MIN per token for the workspace's test sends (the API's budget). */
  testSendLimit?: Pick<TestSendLimit, 'take' | 'perMinute'>;
}

declare module 'fastify' {
  interface FastifyRequest {
    session?: Session;
  }
}

export type TokenListItem = TokenRow;

export const SESSION_COOKIE = 'nl_session';
/** bull-board's axios reads this cookie and sends its value as X-XSRF-TOKEN (same origin only). */
export const BULL_BOARD_XSRF_COOKIE = 'XSRF-TOKEN';
const BULL_BOARD_XSRF_HEADER = 'x-xsrf-token';
const BULL_BOARD_PATH = '/admin/queues';
const LOGIN_CSRF_COOKIE = 'nl_login_csrf';
const PUBLIC_PATHS = ['/admin/login', '/admin/assets/'];
const FLASH: Record<string, string> = {
  pause: 'Campaign paused.',
  send: 'Campaign started.',
  schedule: 'Campaign scheduled.',
  erase: 'Subscriber erased.',
  resume: 'Campaign resumed.',
  cancel: 'Campaign cancelled.',
  unschedule: 'Schedule called off: the campaign is a draft again.',
  state: 'That action is not possible in the campaign’s current state.',
  preflight: 'The draft has preflight errors: fix them in the workspace before it is scheduled or sent.',
};

const ASSETS: Record<string, { type: string; body: string }> = {
  'dashboard.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('./assets/dashboard.js', import.meta.url), 'utf8') },
  'dashboard.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('./assets/dashboard.css', import.meta.url), 'utf8') },
  'workspace.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('./assets/workspace.js', import.meta.url), 'utf8') },
};

// frame-src 'self': the workspace's preview iframes (their documents carry their own, script-free policy).
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Poll every second while something moves, every 5 s otherwise. */
const pollInterval = (live: boolean) => (live ? 1000 : 5000);

function isUnder(url: string, base: string): boolean {
  const path = url.split('?')[0]!;
  return path === base || path.startsWith(`${base}/`);
}

function isPublic(url: string): boolean {
  const path = url.split('?')[0]!;
  return PUBLIC_PATHS.some((p) => (p.endsWith('/') ? path.startsWith(p) : path === p));
}

function wantsHtml(request: FastifyRequest): boolean {
  return request.method === 'GET' && !request.url.endsWith('.json') && (request.headers.accept ?? '').includes('text/html');
}

/** Same-origin check for requests that change state (defence in depth next to SameSite=Strict). */
function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin) {
    try {
      return new URL(origin).host === request.headers.host;
    } catch {
      return false;
    }
  }
  const site = request.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin' || site === 'none';
}

/** `at` of a send form: empty means now; otherwise an ISO 8601 time (a bare datetime-local value is UTC). */
function scheduleOf(request: FastifyRequest): Date | undefined {
  const body = request.body as Record<string, unknown> | undefined;
  const at = body?.at;
  // The workspace's local-time field is turned into `at` (with its zone) by its script; a
  // local time that arrives alone cannot be placed in time: refuse rather than send now.
  if (typeof body?.at_local === 'string' && body.at_local.trim() !== '' && (typeof at !== 'string' || at.trim() === '')) {
    throw Object.assign(new Error('at: the local schedule time came without its time zone (the page script converts it); give `at` in ISO 8601'), { statusCode: 400 });
  }
  if (typeof at !== 'string' || at.trim() === '') return undefined;
  const text = /(Z|[+-]\d\d:?\d\d)$/.test(at.trim()) ? at.trim() : `${at.trim()}Z`;
  const when = new Date(text);
  if (Number.isNaN(when.getTime())) throw Object.assign(new Error(`at: "${at}" is not a date and time (ISO 8601, UTC unless it says otherwise)`), { statusCode: 400 });
  return when;
}

/** `canary` of a send form: empty means the default (CANARY_PERCENT); otherwise a share like 5%. */
function canaryOf(request: FastifyRequest): number | undefined {
  const canary = (request.body as Record<string, unknown> | undefined)?.canary;
  if (typeof canary !== 'string' || canary.trim() === '') return undefined;
  try {
    return parseCanaryPercent(canary);
  } catch (err) {
    throw Object.assign(new Error(`canary: ${(err as Error).message}`), { statusCode: 400 });
  }
}

function sendHtml(reply: FastifyReply, body: string, code = 200): FastifyReply {
  return reply
    .code(code)
    .type('text/html; charset=utf-8')
    .header('Content-Security-Policy', CSP)
    .header('X-Frame-Options', 'DENY')
    .header('Cache-Control', 'no-store')
    .header('Referrer-Policy', 'same-origin')
    .send(body);
}

export async function adminPlugin(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  await app.register(cookie);
  await app.register(formbody);
  await app.register(rateLimit, { global: false });

  const cookieOptions = (request: FastifyRequest, path: string, maxAge?: number) => ({
    path,
    httpOnly: true,
    sameSite: 'strict' as const,
    // Secure when this request came over https (directly or via a trusted proxy) or the
    // public URL is https: a cookie meant for https must never travel over plain http.
    secure: request.protocol === 'https' || (deps.publicUrl?.startsWith('https:') ?? false),
    ...(maxAge !== undefined ? { maxAge } : {}),
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
    const status = httpStatusOf(err);
    if (status >= 500) request.log.error({ err }, 'admin error');
    const message = status >= 500 ? 'internal error' : err.message;
    if (request.url.endsWith('.json') || !wantsHtml(request)) return reply.code(status).send({ error: message });
    return sendHtml(reply, `<!doctype html><title>Error</title><p>${status}: ${escapeHtml(message)}</p><p><a href="/admin">Dashboard</a></p>`, status);
  });

  // Session on every non-public request; CSRF and origin on every state change.
  app.addHook('onRequest', async (request, reply) => {
    if (isPublic(request.url)) return;
    let session = await deps.sessions.get(request.cookies[SESSION_COOKIE]);
    if (session && deps.tokenExists && !(await deps.tokenExists(session.principal.tokenId))) {
      await deps.sessions.destroy(request.cookies[SESSION_COOKIE]);
      session = null;
    }
    if (!session) {
      if (wantsHtml(request)) return reply.redirect('/admin/login', 303);
      return reply.code(401).send({ error: 'log in at /admin/login' });
    }
    request.session = session;
    // The role, before the CSRF check and the handler: a forged POST with a valid token is refused too.
    const permission: Permission =
      request.routeOptions.config?.permission ?? (isUnder(request.url, BULL_BOARD_PATH) ? 'queues.board' : 'dashboard.view');
    if (!may(session.principal.role, permission)) {
      const message = `this needs the admin role (${permission}); you are logged in as ${session.principal.name} (${session.principal.role})`;
      if (wantsHtml(request)) return sendHtml(reply, `<!doctype html><title>Forbidden</title><p>403: ${escapeHtml(message)}</p><p><a href="/admin">Dashboard</a></p>`, 403);
      return reply.code(403).send({ error: message });
    }
    const safeMethod = request.method === 'GET' || request.method === 'HEAD';
    if (!safeMethod && !sameOrigin(request)) {
      return reply.code(403).send({ error: 'cross-origin request refused' });
    }
    // bull-board's pages: hand its UI the session's CSRF token in a cookie it echoes as a header.
    if (safeMethod && isUnder(request.url, BULL_BOARD_PATH)) {
      reply.setCookie(BULL_BOARD_XSRF_COOKIE, session.csrf, { ...cookieOptions(request, BULL_BOARD_PATH, deps.sessions.ttlSeconds), httpOnly: false });
    }
  });
  app.addHook('preHandler', async (request, reply) => {
    if (request.method === 'GET' || request.method === 'HEAD' || !request.session) return;
    const presented = isUnder(request.url, BULL_BOARD_PATH)
      ? (request.headers[BULL_BOARD_XSRF_HEADER] ?? request.headers['x-csrf-token'])
      : ((request.body as Record<string, unknown> | undefined)?._csrf ?? request.headers['x-csrf-token']);
    if (typeof presented !== 'string' || !safeEqual(presented, request.session.csrf)) {
      return reply.code(403).send({ error: 'missing or invalid CSRF token' });
    }
  });

  app.get('/admin/assets/:name', { schema: { hide: true } }, async (request, reply) => {
    const asset = ASSETS[(request.params as { name: string }).name];
    if (!asset) return reply.code(404).send({ error: 'not found' });
    return reply.type(asset.type).header('Cache-Control', 'no-cache').send(asset.body);
  });

  // ── login / logout ─────────────────────────────────────────────────────────
  app.get('/admin/login', async (request, reply) => {
    const csrf = randomToken(24);
    reply.setCookie(LOGIN_CSRF_COOKIE, csrf, cookieOptions(request, '/admin/login', 600));
    return sendHtml(reply, loginPage({ csrf }));
  });

  app.post(
    '/admin/login',
    { config: { rateLimit: { max: deps.loginRateLimit ?? 20, timeWindow: '1 minute' } } },
    async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const fresh = randomToken(24);
      const fail = (error: string, code: number) => {
        reply.setCookie(LOGIN_CSRF_COOKIE, fresh, cookieOptions(request, '/admin/login', 600));
        return sendHtml(reply, loginPage({ csrf: fresh, error }), code);
      };
      // Double-submit token against login CSRF (an attacker logging the victim into their own account).
      const cookieCsrf = request.cookies[LOGIN_CSRF_COOKIE];
      if (typeof body._csrf !== 'string' || !cookieCsrf || !safeEqual(body._csrf, cookieCsrf)) {
        return fail('Your login form expired; please try again.', 403);
      }
      const token = typeof body.token === 'string' ? body.token.trim() : '';
      let principal: Principal | null = null;
      try {
        principal = token ? await deps.verifyToken(token) : null;
      } catch (err) {
        if (err instanceof AuthError) return fail(err.message, err.statusCode); // e.g. an expired token, said so
        throw err;
      }
      if (!principal) return fail('Unknown token.', 401);
      if (!may(principal.role, 'dashboard.view')) return fail('This token may not use the dashboard.', 403);
      const { id } = await deps.sessions.create(principal);
      reply.clearCookie(LOGIN_CSRF_COOKIE, { path: '/admin/login' });
      reply.setCookie(SESSION_COOKIE, id, cookieOptions(request, '/admin', deps.sessions.ttlSeconds));
      return reply.redirect('/admin', 303);
    },
  );

  app.post('/admin/logout', async (request, reply) => {
    await deps.sessions.destroy(request.cookies[SESSION_COOKIE]);
    reply.clearCookie(SESSION_COOKIE, { path: '/admin' });
    return reply.redirect('/admin/login', 303);
  });

  // ── campaigns ──────────────────────────────────────────────────────────────
  async function campaignRows() {
    const list = await deps.campaigns.list({ limit: 50, offset: 0 });
    // The list shows status and progress only: counts from the ledger counters, no engagement figures.
    return Promise.all(list.map(async (campaign) => ({ campaign, stats: await deps.campaigns.stats(campaign.id, { health: false }) })));
  }

  app.get('/admin', async (request, reply) => sendHtml(reply, campaignListPage(await campaignRows(), request.session!)));

  app.get('/admin/campaigns.json', async (_request, reply) => {
    const rows = await campaignRows();
    return reply.header('Cache-Control', 'no-store').send({
      fragments: { rows: campaignRowsHtml(rows).value },
      interval: pollInterval(rows.some((r) => isLive(r.stats.status))),
    });
  });

  async function pageData(id: number): Promise<CampaignPageData> {
    const campaign = await deps.campaigns.get(id);
    const stats = await deps.campaigns.stats(id);
    const startedAt = stats.started_at ? Date.parse(stats.started_at) : null;
    const finishedAt = stats.finished_at ? Date.parse(stats.finished_at) : null;
    const [series, links, problems] = await Promise.all([
      deps.queries.series(id, startedAt, finishedAt),
      deps.queries.linkEngagement(id),
      deps.queries.recentProblems(id),
    ]);
    return { campaign: { ...campaign, status: stats.status }, stats, series, links, problems };
  }

  const campaignId = (request: FastifyRequest): number => {
    const id = Number((request.params as { id: string }).id);
    if (!Number.isSafeInteger(id) || id <= 0) throw Object.assign(new Error('no such campaign'), { statusCode: 404 });
    return id;
  };

  app.get('/admin/campaigns/:id', async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    const flash = q.done ? FLASH[q.done] : q.err ? FLASH[q.err] : undefined;
    const id = campaignId(request);
    const data = await pageData(id);
    return sendHtml(reply, campaignPage({ ...data, activity: await deps.campaigns.activity(id) }, request.session!, flash));
  });

  app.get('/admin/campaigns/:id/live.json', async (request, reply) => {
    const data = await pageData(campaignId(request));
    return reply.header('Cache-Control', 'no-store').send({
      stats: data.stats,
      progress: progressOf(data.stats),
      actions: actionsFor(data.stats.status, request.session!.principal.role),
      fragments: campaignFragments(data),
      // Finished campaigns still receive late events (bounces, complaints, clicks): keep polling, slower.
      interval: pollInterval(isLive(data.stats.status)),
    });
  });

  for (const action of DASHBOARD_ACTIONS) {
    app.post(`/admin/campaigns/:id/${action}`, { config: { permission: campaignActionPermission(action) } }, async (request, reply) => {
      const id = campaignId(request);
      const json = (request.headers.accept ?? '').includes('application/json') && !(request.headers.accept ?? '').includes('text/html');
      const actor = tokenActor(request.session!.principal);
      try {
        const campaign = action === 'send' ? await deps.campaigns.send(id, scheduleOf(request), actor, { canary: canaryOf(request) }) : await deps.campaigns[action](id, actor);
        if (json) return reply.send({ campaign });
        const done = action === 'send' && campaign.status === 'scheduled' ? 'schedule' : action;
        return reply.redirect(`/admin/campaigns/${id}?done=${done}`, 303);
      } catch (err) {
        if (err instanceof NewsletterError && err.code === 'STATE') {
          if (json) return reply.code(409).send({ error: err.message });
          return reply.redirect(`/admin/campaigns/${id}?err=${/preflight errors/.test(err.message) ? 'preflight' : 'state'}`, 303);
        }
        throw err;
      }
    });
  }

  // ── the editor's workspace ─────────────────────────────────────────────────
  if (deps.previews) {
    registerWorkspaceRoutes(app, { campaigns: deps.campaigns, previews: deps.previews, testSendLimit: deps.testSendLimit, sendHtml, campaignId });
  }

  // ── subscribers ────────────────────────────────────────────────────────────
  app.get('/admin/subscribers', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const q = String(query.q ?? '').slice(0, 254).trim();
    const results = await deps.subscribers.search({ q: q || undefined, limit: 100, offset: 0 });
    const flash = typeof query.done === 'string' ? FLASH[query.done] : undefined;
    return sendHtml(reply, subscribersPage({ q, results, flash }, request.session!));
  });

  // Erase a person and their data (the address stays suppressed): admins only.
  app.post('/admin/subscribers/erase', { config: { permission: 'subscribers.erase' } }, async (request, reply) => {
    const email = (request.body as Record<string, unknown> | undefined)?.email;
    if (typeof email !== 'string' || email.trim() === '') throw Object.assign(new Error('email: the address to erase is required'), { statusCode: 400 });
    await deps.subscribers.remove(email.trim());
    return reply.redirect('/admin/subscribers?done=erase', 303);
  });

  // ── API tokens (never the tokens themselves) ───────────────────────────────
  app.get('/admin/tokens', { config: { permission: 'tokens.list' } }, async (request, reply) => sendHtml(reply, tokensPage((await deps.listTokens?.()) ?? [], request.session!)));

  // ── OpenAPI reference, behind the login (the spec itself: GET /api/openapi.json with a token) ──
  if (app.hasPlugin('@fastify/swagger')) {
    await app.register(swaggerUi, { routePrefix: '/admin/api-docs', staticCSP: true, uiConfig: { docExpansion: 'list', deepLinking: false } });
  }

  // ── bull-board ─────────────────────────────────────────────────────────────
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath('/admin/queues');
  // @bull-board/fastify pins its own copy of @bull-board/api: same shape, separate declarations.
  type BoardAdapter = Parameters<typeof createBullBoard>[0]['serverAdapter'];
  createBullBoard({ queues: (deps.queues ?? []).map((q) => new BullMQAdapter(q)), serverAdapter: serverAdapter as unknown as BoardAdapter });
  await app.register(serverAdapter.registerPlugin(), { prefix: '/admin/queues' });
}
