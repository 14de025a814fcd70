/**
 * The editor's workspace routes, registered by adminPlugin inside its login, role and CSRF
 * hooks (every POST here carries the session's CSRF token, as a form field or, for the
 * preview fetch, the x-csrf-token header):
 *
 *   GET  /admin/campaigns/new              compose a new issue            campaigns.create
 *   POST /admin/campaigns/new              save it as a draft             campaigns.create
 *   GET  /admin/campaigns/:id/edit         reopen a draft or scheduled    campaigns.read
 *   POST /admin/campaigns/:id/edit         save the edit                  campaigns.create
 *   POST /admin/campaigns/:id/test         test copies                    campaigns.test
 *   POST /admin/workspace/preview          diagnostics + reader copy      campaigns.read
 *   GET  /admin/workspace/preview/:slot    the page's latest preview document (CSP: no scripts)
 *
 * State changes go through the campaigns port (the orchestrator): drafts are created and
 * edited there and recorded in the activity log with the session's actor.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { tokenActor } from '../../campaigns/campaign-activity.js';
import { isEditable } from '../../campaigns/state-machine.js';
import { InputError, NewsletterError } from '../../errors.js';
import { assertEmailAddress } from '../../render/mime.js';
import type { CampaignsPort } from '../api/ports.js';
import type { TestSendLimit } from '../api/test-send-limit.js';
import { PREVIEW_CSP, SLOT_PATTERN, type PreviewDocuments } from './preview-documents.js';
import { workspacePage, type WorkspacePageData } from './workspace-page.js';

export interface WorkspaceDeps {
  campaigns: CampaignsPort;
  previews: PreviewDocuments;
  /** TEST_SENDS_PER_MIN per token, shared with the API. */
  testSendLimit?: Pick<TestSendLimit, 'take' | 'perMinute'>;
  sendHtml(reply: FastifyReply, body: string, code?: number): FastifyReply;
  campaignId(request: FastifyRequest): number;
}

const FLASH: Record<string, string> = {
  saved: 'Draft saved.',
  created: 'Draft saved. Send yourself a test, then schedule it.',
  test: 'Test sent.',
  unschedule: 'Schedule called off: the campaign is a draft again.',
};

const field = (body: unknown, name: string): string => {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : '';
};

/** `a@x, b@y` (commas, semicolons or white space): checked addresses, at most `max`. */
export function parseRecipients(text: string, max: number): string[] {
  const to = [...new Set(text.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean))];
  if (to.length === 0) throw new InputError('name at least one address for the test', 'to');
  if (to.length > max) throw new InputError(`at most ${max} test recipients a minute (TEST_SENDS_PER_MIN)`, 'to');
  return to.map((e) => assertEmailAddress(e, 'test address'));
}

export function registerWorkspaceRoutes(app: FastifyInstance, deps: WorkspaceDeps): void {
  const { campaigns } = deps;

  async function editPage(request: FastifyRequest, reply: FastifyReply, id: number, extra: Partial<WorkspacePageData> = {}, code = 200) {
    const draft = await campaigns.draft(id);
    if (!isEditable(draft.campaign.status)) return reply.redirect(`/admin/campaigns/${id}`, 303);
    const estimate = await campaigns.sendEstimate(id);
    const q = request.query as Record<string, string | undefined>;
    const flash = q.done ? FLASH[q.done] : undefined;
    const session = request.session!;
    return deps.sendHtml(reply, workspacePage({ lists: [], draft, estimate, editorEmail: session.principal.email ?? null, flash, ...extra }, session), code);
  }

  app.get('/admin/campaigns/new', { config: { permission: 'campaigns.create' } }, async (request, reply) => {
    const lists = await campaigns.listNames();
    const q = request.query as Record<string, string | undefined>;
    return deps.sendHtml(reply, workspacePage({ lists, list: q.list ?? (lists.includes('default') ? 'default' : lists[0]) }, request.session!));
  });

  app.post('/admin/campaigns/new', { config: { permission: 'campaigns.create' }, bodyLimit: 2 * 1024 * 1024 }, async (request, reply) => {
    const input = { markdown: field(request.body, 'markdown'), list: field(request.body, 'list'), subject: field(request.body, 'subject') };
    try {
      const { campaign } = await campaigns.saveDraft(null, input, tokenActor(request.session!.principal));
      return reply.redirect(`/admin/campaigns/${campaign.id}/edit?done=created`, 303);
    } catch (err) {
      if (!(err instanceof NewsletterError) || err.code !== 'INPUT') throw err;
      const lists = await campaigns.listNames();
      return deps.sendHtml(reply, workspacePage({ lists, list: input.list, markdown: input.markdown, subject: input.subject, error: err.message }, request.session!), 400);
    }
  });

  app.get('/admin/campaigns/:id/edit', { config: { permission: 'campaigns.read' } }, async (request, reply) => editPage(request, reply, deps.campaignId(request)));

  app.post('/admin/campaigns/:id/edit', { config: { permission: 'campaigns.create' }, bodyLimit: 2 * 1024 * 1024 }, async (request, reply) => {
    const id = deps.campaignId(request);
    const input = { markdown: field(request.body, 'markdown'), list: '', subject: field(request.body, 'subject') };
    try {
      await campaigns.saveDraft(id, input, tokenActor(request.session!.principal));
      return reply.redirect(`/admin/campaigns/${id}/edit?done=saved`, 303);
    } catch (err) {
      if (!(err instanceof NewsletterError) || (err.code !== 'STATE' && err.code !== 'INPUT')) throw err;
      return editPage(request, reply, id, { markdown: input.markdown, subject: input.subject, error: err.message }, err.code === 'STATE' ? 409 : 400);
    }
  });

  app.post('/admin/campaigns/:id/test', { config: { permission: 'campaigns.test' } }, async (request, reply) => {
    const id = deps.campaignId(request);
    const session = request.session!;
    const to = parseRecipients(field(request.body, 'to'), deps.testSendLimit?.perMinute ?? 20);
    if (deps.testSendLimit) {
      const budget = await deps.testSendLimit.take(session.principal.tokenId, to.length);
      if (!budget.allowed) {
        return editPage(request, reply, id, { error: `Test-send limit reached: ${deps.testSendLimit.perMinute} messages a minute per token; try again in ${Math.ceil(budget.retryAfterMs / 1000)} s.` }, 429);
      }
    }
    try {
      await campaigns.testSend(id, to, tokenActor(session.principal));
    } catch (err) {
      if (!(err instanceof NewsletterError) || (err.code !== 'STATE' && err.code !== 'INPUT')) throw err;
      return editPage(request, reply, id, { error: err.message }, err.code === 'STATE' ? 409 : 400);
    }
    return reply.redirect(`/admin/campaigns/${id}/edit?done=test`, 303);
  });

  app.post('/admin/workspace/preview', { config: { permission: 'campaigns.read' }, bodyLimit: 2 * 1024 * 1024 }, async (request, reply) => {
    const body = request.body as Record<string, unknown> | undefined;
    const id = body?.campaignId;
    const campaignId = typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : undefined;
    const preview = await campaigns.preview({
      markdown: field(body, 'markdown'),
      list: field(body, 'list'),
      subject: field(body, 'subject'),
      as: field(body, 'as') || undefined,
      campaignId,
    });
    const slot = field(body, 'slot');
    if (!SLOT_PATTERN.test(slot)) throw new InputError('16 to 64 letters, digits, _ or - (the page makes one)', 'slot');
    const { html, ...rest } = preview;
    let document: string | null = null;
    if (html !== null) {
      await deps.previews.put(request.session!.csrf, slot, html);
      // A new URL per preview, so the iframes load again; they get the page's latest document.
      document = `/admin/workspace/preview/${slot}?v=${Date.now().toString(36)}`;
    }
    return reply.header('Cache-Control', 'no-store').send({ ...rest, document });
  });

  app.get('/admin/workspace/preview/:id', { config: { permission: 'campaigns.read' } }, async (request, reply) => {
    const doc = await deps.previews.get(request.session!.csrf, (request.params as { id: string }).id);
    if (doc === null) return reply.code(404).type('text/plain').send('preview expired; edit the issue to make a new one');
    return reply
      .type('text/html; charset=utf-8')
      .header('Content-Security-Policy', PREVIEW_CSP)
      .header('X-Content-Type-Options', 'nosniff')
      .header('X-Frame-Options', 'SAMEORIGIN')
      .header('Referrer-Policy', 'no-referrer')
      .header('Cache-Control', 'no-store')
      .send(doc);
  });
}
