/**
 * /api: JSON over HTTP for editors and admins. Every route declares what it does in
 * `config.permission`; src/http/role-policy.ts (shared with the dashboard) says which role
 * that needs. A Bearer token is required everywhere. Bodies are validated by zod (400
 * `{error, field}`); every error is JSON.
 *
 *   editor: campaigns list/show/stats/activity/preview/create/test/send/pause,
 *           subscribers list/show/add/import/unsubscribe
 *   admin:  everything, plus campaigns resume/cancel and subscribers remove
 */
import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { InputError, NewsletterError } from '../../errors.js';
import { AuthError, parseBearer, roleAllows, type Principal, type TokenVerifier } from '../auth.js';
import { campaignActionPermission, leastRole, type Permission } from '../role-policy.js';
import { tokenActor } from '../../campaigns/campaign-activity.js';
import { parseCanaryPercent } from '../../campaigns/canary-wave.js';
import * as s from './api-schemas.js';
import type { CampaignsPort, SubscribersPort } from './ports.js';
import { RequestValidationError, useZodSchemas } from './zod-schemas.js';
import { httpStatusOf } from '../error-status.js';
import type { TestSendLimit } from './test-send-limit.js';

export interface ApiDeps {
  campaigns: CampaignsPort;
  subscribers: SubscribersPort;
  verifyToken: TokenVerifier;
  /**
   * ISSUES_DIR: the directory `path` in campaign create is resolved against and confined to.
   * Unset: no file is ever read; campaigns come from Markdown bodies only.
   */
  issuesDir?: string;
  /** Largest CSV upload in bytes (default 50 MB). */
  maxUploadBytes?: number;
  /** Per-token budget of test messages (TEST_SENDS_PER_MIN); unset = unlimited. */
  testSendLimit?: Pick<TestSendLimit, 'take' | 'perMinute'>;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** What a route does (role-policy.ts decides the least role for it); routes without it are public. */
    permission?: Permission;
  }
}

const BEARER = [{ bearerAuth: [] }];
const errors = { 400: s.errorBody, 401: s.errorBody, 403: s.errorBody, 404: s.errorBody, 409: s.errorBody };

/** Map any error to a status and `{error, field?}`. */
export function apiErrorReply(err: unknown): { status: number; body: { error: string; field?: string } } {
  if (err instanceof RequestValidationError) return { status: 400, body: { error: err.message, field: err.field } };
  if (err instanceof AuthError) return { status: err.statusCode, body: { error: err.message } };
  if (err instanceof InputError) return { status: 400, body: { error: err.message, field: err.location ?? 'body' } };
  const status = httpStatusOf(err);
  if (err instanceof NewsletterError) return { status, body: { error: err.message } };
  // Fastify's own client errors (bad JSON, body too large, unsupported media type).
  if (status < 500) return { status, body: { error: (err as { message?: string }).message ?? 'bad request', field: 'body' } };
  return { status, body: { error: 'internal error' } };
}

export async function apiPlugin(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  useZodSchemas(app);
  await app.register(multipart, { limits: { fileSize: deps.maxUploadBytes ?? 50 * 1024 * 1024, files: 1, fields: 10 } });

  app.setErrorHandler((err, request, reply) => {
    const { status, body } = apiErrorReply(err);
    if (status >= 500) request.log.error({ err }, 'api error');
    if (status === 401) reply.header('WWW-Authenticate', 'Bearer');
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );

  // Authentication before body parsing: an unauthenticated caller cannot make us read a body.
  app.addHook('onRequest', async (request) => {
    const permission = request.routeOptions.config?.permission;
    if (!permission) return;
    const need = leastRole(permission);
    const token = parseBearer(request.headers.authorization);
    if (!token) throw new AuthError(401, 'missing bearer token (Authorization: Bearer <token>)');
    const principal = await deps.verifyToken(token);
    if (!principal) throw new AuthError(401, 'invalid token');
    if (!roleAllows(principal.role, need)) throw new AuthError(403, `this needs the ${need} role`);
    request.principal = principal;
  });

  const issuesDir = deps.issuesDir !== undefined ? resolve(deps.issuesDir) : undefined;
  async function readIssue(path: string): Promise<{ markdown: string; sourcePath: string }> {
    // A token must not read arbitrary server files: only .md files inside ISSUES_DIR, and none without it.
    if (issuesDir === undefined) {
      throw new InputError('this server reads no issue files (ISSUES_DIR is unset): send the Markdown in "markdown"', 'path');
    }
    if (!path.endsWith('.md') || isAbsolute(path) || path.split(/[\\/]/).includes('..')) {
      throw new InputError('must be a relative path to a .md file inside ISSUES_DIR, without ".."', 'path');
    }
    const full = resolve(issuesDir, path);
    const rel = relative(issuesDir, full);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      throw new InputError('must be a .md file inside ISSUES_DIR', 'path');
    }
    let real: string;
    try {
      real = await realpath(full);
    } catch {
      throw new InputError(`no such file: ${path}`, 'path');
    }
    const realRel = relative(await realpath(issuesDir), real);
    if (realRel.startsWith('..') || isAbsolute(realRel)) throw new InputError('must stay inside ISSUES_DIR (a symlink leads out)', 'path');
    return { markdown: await readFile(real, 'utf8'), sourcePath: path };
  }

  const { campaigns, subscribers } = deps;
  const actorOf = (request: FastifyRequest) => tokenActor(request.principal!);
  const id = (request: FastifyRequest) => (request.params as z.infer<typeof s.idParams>).id;

  // ── the OpenAPI document: for API callers (a token), not for anyone who asks ──
  app.get('/openapi.json', { config: { permission: 'dashboard.view' }, schema: { hide: true } }, async () => app.swagger());
  // The browsable reference moved behind the dashboard login.
  app.get('/docs', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/admin/api-docs', 302));

  // ── campaigns ──────────────────────────────────────────────────────────────
  app.get('/campaigns', {
    config: { permission: 'campaigns.read' },
    schema: { tags: ['campaigns'], summary: 'List campaigns, newest first', security: BEARER, querystring: s.listQuery, response: { 200: z.object({ items: z.array(s.campaignView) }), ...errors } },
    handler: async (request) => ({ items: await campaigns.list(request.query as z.infer<typeof s.listQuery>) }),
  });

  app.post('/campaigns', {
    config: { permission: 'campaigns.create' },
    schema: {
      tags: ['campaigns'],
      summary: 'Create a draft campaign from Markdown (inline or a server file); idempotent per issue slug and list',
      description:
        'The same issue (slug) submitted again for the same list is the same campaign: 200 with `outcome` "existing" when the content is unchanged (whatever its status), ' +
        '"edited" when a draft or scheduled campaign takes the new content (its schedule stays). Different content for a campaign that is sending, paused or sent: 409. ' +
        'After a cancelled one, a new draft is made (201, "created").',
      security: BEARER,
      body: s.createCampaignBody,
      response: { 201: s.createCampaignReply, 200: s.createCampaignReply, ...errors },
    },
    handler: async (request, reply) => {
      const body = request.body as z.infer<typeof s.createCampaignBody>;
      const source = body.path !== undefined ? await readIssue(body.path) : { markdown: body.markdown!, sourcePath: null };
      const created = await campaigns.create({ ...source, list: body.list, subject: body.subject }, actorOf(request));
      return reply.code(created.outcome === 'created' ? 201 : 200).send(created);
    },
  });

  app.get('/campaigns/:id', {
    config: { permission: 'campaigns.read' },
    schema: { tags: ['campaigns'], summary: 'One campaign', security: BEARER, params: s.idParams, response: { 200: s.campaignView, ...errors } },
    handler: async (request) => campaigns.get(id(request)),
  });

  app.get('/campaigns/:id/preview', {
    config: { permission: 'campaigns.read' },
    schema: { tags: ['campaigns'], summary: 'The HTML email as a sample subscriber would see it', security: BEARER, params: s.idParams, produces: ['text/html'], response: { 200: z.string(), ...errors } },
    handler: async (request, reply: FastifyReply) => {
      const html = await campaigns.previewHtml(id(request));
      // The preview is a full HTML document from our own compiler; sandbox it anyway.
      return reply
        .type('text/html; charset=utf-8')
        .header('Content-Security-Policy', "sandbox; default-src 'none'; img-src * data:; style-src 'unsafe-inline'")
        .serializer((p: unknown) => String(p))
        .send(html);
    },
  });

  app.post('/campaigns/:id/test', {
    config: { permission: 'campaigns.test' },
    schema: {
      tags: ['campaigns'],
      summary: 'Send the campaign to up to 10 test addresses (at most TEST_SENDS_PER_MIN messages per token per minute: 429 with Retry-After beyond)',
      security: BEARER,
      params: s.idParams,
      body: s.testSendBody,
      response: { 200: z.object({ sent: z.array(z.string()) }), 429: s.errorBody, ...errors },
    },
    handler: async (request, reply) => {
      const to = (request.body as z.infer<typeof s.testSendBody>).to;
      if (deps.testSendLimit) {
        if (to.length > deps.testSendLimit.perMinute) {
          throw new RequestValidationError('to', `to: at most ${deps.testSendLimit.perMinute} test recipients a minute (TEST_SENDS_PER_MIN)`);
        }
        const budget = await deps.testSendLimit.take(request.principal!.tokenId, to.length);
        if (!budget.allowed) {
          const seconds = Math.max(1, Math.ceil(budget.retryAfterMs / 1000));
          return reply
            .code(429)
            .header('Retry-After', String(seconds))
            .send({ error: `test-send limit reached: ${deps.testSendLimit.perMinute} messages a minute per token; try again in ${seconds} s` });
        }
      }
      return campaigns.testSend(id(request), to, actorOf(request));
    },
  });

  app.post('/campaigns/:id/send', {
    config: { permission: 'campaigns.send' },
    schema: { tags: ['campaigns'], summary: 'Send now, or schedule with `at`', security: BEARER, params: s.idParams, body: s.sendBody, response: { 202: s.campaignView, ...errors } },
    handler: async (request, reply) => {
      const { at, canary } = request.body as z.infer<typeof s.sendBody>;
      return reply.code(202).send(await campaigns.send(id(request), at ? new Date(at) : undefined, actorOf(request), { canary: canaryOf(canary) }));
    },
  });

  app.post('/campaigns/:id/unschedule', {
    config: { permission: campaignActionPermission('unschedule') },
    schema: { tags: ['campaigns'], summary: 'Call off a scheduled send before it starts: the campaign is a draft again (editors may; to move it, send again with a new `at`)', security: BEARER, params: s.idParams, response: { 200: s.campaignView, ...errors } },
    handler: async (request) => campaigns.unschedule(id(request), actorOf(request)),
  });

  app.post('/campaigns/:id/pause', {
    config: { permission: 'campaigns.pause' },
    schema: { tags: ['campaigns'], summary: 'Pause a sending campaign (editors may: stopping is always safe)', security: BEARER, params: s.idParams, response: { 200: s.campaignView, ...errors } },
    handler: async (request) => campaigns.pause(id(request), actorOf(request)),
  });

  app.post('/campaigns/:id/resume', {
    config: { permission: 'campaigns.resume' },
    schema: { tags: ['campaigns'], summary: 'Resume a paused campaign (admin: it may have been paused by the bounce/complaint breaker)', security: BEARER, params: s.idParams, response: { 200: s.campaignView, ...errors } },
    handler: async (request) => campaigns.resume(id(request), actorOf(request)),
  });

  app.post('/campaigns/:id/cancel', {
    config: { permission: 'campaigns.cancel' },
    schema: { tags: ['campaigns'], summary: 'Cancel a campaign for good (admin)', security: BEARER, params: s.idParams, response: { 200: s.campaignView, ...errors } },
    handler: async (request) => campaigns.cancel(id(request), actorOf(request)),
  });

  app.get('/campaigns/:id/stats', {
    config: { permission: 'campaigns.read' },
    schema: { tags: ['campaigns'], summary: 'Delivery counters', security: BEARER, params: s.idParams, response: { 200: s.campaignStats, ...errors } },
    handler: async (request) => campaigns.stats(id(request)),
  });

  app.get('/campaigns/:id/activity', {
    config: { permission: 'campaigns.read' },
    schema: {
      tags: ['campaigns'],
      summary: 'Who created, edited, tested, scheduled, started, paused, resumed, cancelled the campaign, and when (oldest first)',
      security: BEARER,
      params: s.idParams,
      response: { 200: z.object({ items: z.array(s.activityEntry) }), ...errors },
    },
    handler: async (request) => ({ items: await campaigns.activity(id(request)) }),
  });

  // ── subscribers ────────────────────────────────────────────────────────────
  app.get('/subscribers', {
    config: { permission: 'subscribers.read' },
    schema: { tags: ['subscribers'], summary: 'List or search subscribers', security: BEARER, querystring: s.subscriberQuery, response: { 200: z.object({ items: z.array(s.subscriberView), total: z.number().int() }), ...errors } },
    handler: async (request) => subscribers.search(request.query as z.infer<typeof s.subscriberQuery>),
  });

  app.post('/subscribers', {
    config: { permission: 'subscribers.write' },
    schema: { tags: ['subscribers'], summary: 'Add a subscriber to a list (or re-add to another list)', security: BEARER, body: s.addSubscriberBody, response: { 201: s.subscriberView, ...errors } },
    handler: async (request, reply) => reply.code(201).send(await subscribers.add(request.body as z.infer<typeof s.addSubscriberBody>)),
  });

  app.post('/subscribers/import', {
    config: { permission: 'subscribers.write' },
    schema: {
      tags: ['subscribers'],
      summary: 'Import a CSV (multipart/form-data, field `file`; columns email, name, …)',
      security: BEARER,
      consumes: ['multipart/form-data'],
      querystring: s.importQuery,
      response: { 200: s.importReply, ...errors },
    },
    handler: async (request) => {
      if (!request.isMultipart()) throw new RequestValidationError('file', 'file: send multipart/form-data with a CSV in field "file"');
      const file = await request.file();
      if (!file || file.fieldname !== 'file') throw new RequestValidationError('file', 'file: a CSV file in field "file" is required');
      const query = request.query as z.infer<typeof s.importQuery>;
      const result = await subscribers.importCsv(file.file, query.list, { encoding: query.encoding, source: uploadName(file.filename) });
      if (file.file.truncated) throw new RequestValidationError('file', 'file: larger than the upload limit');
      return result;
    },
  });

  app.get('/subscribers/:email', {
    config: { permission: 'subscribers.read' },
    schema: { tags: ['subscribers'], summary: 'One subscriber', security: BEARER, params: s.emailParams, response: { 200: s.subscriberView, ...errors } },
    handler: async (request) => subscribers.get((request.params as z.infer<typeof s.emailParams>).email),
  });

  app.post('/subscribers/:email/unsubscribe', {
    config: { permission: 'subscribers.write' },
    schema: { tags: ['subscribers'], summary: 'Unsubscribe from one list, or from all when no list is given', security: BEARER, params: s.emailParams, body: s.unsubscribeBody, response: { 200: s.subscriberView, ...errors } },
    handler: async (request) =>
      subscribers.unsubscribe((request.params as z.infer<typeof s.emailParams>).email, (request.body as z.infer<typeof s.unsubscribeBody>).list),
  });

  app.delete('/subscribers/:email', {
    config: { permission: 'subscribers.erase' },
    schema: { tags: ['subscribers'], summary: 'Remove a subscriber and their data (admin; the address stays suppressed)', security: BEARER, params: s.emailParams, response: { 204: z.null(), ...errors } },
    handler: async (request, reply) => {
      await subscribers.remove((request.params as z.infer<typeof s.emailParams>).email);
      return reply.code(204).send();
    },
  });
}

/** The uploaded file's name as it appears in import errors: printable and short, whatever the client sent. */
function uploadName(name: string | undefined): string {
  const safe = (name ?? '').replace(/[^\p{L}\p{N} ._()-]/gu, '_').slice(0, 100);
  return safe === '' ? 'file' : safe;
}

/** The send body's `canary` (5, "5%", "0.5%") as a percentage; a 400 naming the field otherwise. */
function canaryOf(value: number | string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    return parseCanaryPercent(value);
  } catch (err) {
    throw new InputError((err as Error).message, 'canary');
  }
}
