/**
 * CampaignsPort over the campaign orchestrator (state transitions, stats), the campaigns
 * repository and the compiler. The compiler and the test sender are passed in, so this
 * file holds only the glue an HTTP caller needs: views, scheduling, preview.
 */
import { InputError, NotFoundError, StateError } from '../../errors.js';
import type { CampaignOrchestrator } from '../../campaigns/campaign-orchestrator.js';
import { describePause } from '../../campaigns/pause-reason.js';
import type { CampaignIssue, DraftIssue, IssueSource } from '../../campaigns/campaign-issue.js';
import type { CampaignMessageSource, ReaderCopy } from '../../campaigns/campaign-message.js';
import { estimateSend } from '../../campaigns/send-estimate.js';
import { GMAIL_CLIP_BYTES } from '../../render/compile-issue.js';
import type { Diagnostic } from '../../render/types.js';
import type { CompiledIssue } from '../../render/types.js';
import type { CampaignsRepository } from '../../store/campaigns-repository.js';
import type { ListsRepository } from '../../store/lists-repository.js';
import type { Campaign } from '../../store/schema.js';
import type { Actor } from '../../campaigns/campaign-activity.js';
import type { CampaignsPort, CampaignStatsView, CampaignView, CreateCampaignInput, DiagnosticView, PreviewView } from './ports.js';

export interface CampaignsServiceDeps {
  campaigns: CampaignsRepository;
  /** List names for the views. */
  lists: Pick<ListsRepository, 'findById' | 'findByName' | 'all'>;
  orchestrator: CampaignOrchestrator;
  /** Parse + compile Markdown and derive the subject (the CLI's path too); throws InputError (with the diagnostics) when it cannot. */
  compile: (source: IssueSource) => Promise<CampaignIssue>;
  /** The HTML a sample subscriber would see. */
  renderPreview: (compiled: CompiledIssue, campaign: Campaign) => string;
  /** Send the campaign's message to these addresses, outside the ledger; returns the addresses sent to. */
  sendTest: (campaign: Campaign, compiled: CompiledIssue, to: string[]) => Promise<string[]>;
  /** The workspace's issue: check's diagnostics and what compiles (campaign-issue.ts draftCampaignIssue). */
  draftIssue?: (source: IssueSource) => Promise<DraftIssue>;
  /** The message `as` (a subscriber of the list) or a sample reader gets. */
  readerCopy?: (source: CampaignMessageSource, list: { id: number; name: string }, as?: string) => Promise<{ copy: ReaderCopy; reader: PreviewView['reader'] }>;
  /** The fleet's send rate (messages per second). */
  sendRate?: () => Promise<number>;
  /** Who would get it if it started now, and when that was counted (src/campaigns/audience-sizes.ts). */
  audienceSize?: (listId: number) => Promise<{ n: number; countedAt: number }>;
  now?: () => number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const diagnosticView = (d: Diagnostic): DiagnosticView => ({ severity: d.severity, line: d.line ?? null, message: d.message });

function needs<T>(dep: T | undefined, name: string): T {
  if (dep === undefined) throw new Error(`the campaigns service was built without ${name}`);
  return dep;
}

export function createCampaignsService(deps: CampaignsServiceDeps): CampaignsPort {
  const now = deps.now ?? Date.now;
  const lists = deps.lists;
  const listNames = new Map<number, string>();

  async function listName(id: number): Promise<string> {
    let name = listNames.get(id);
    if (name === undefined) {
      name = (await lists.findById(id))?.name ?? `#${id}`;
      listNames.set(id, name);
    }
    return name;
  }

  async function view(c: Campaign): Promise<CampaignView> {
    return {
      id: c.id,
      status: c.status,
      subject: c.subject,
      title: c.issue_title,
      list: await listName(c.list_id),
      total: c.total,
      scheduled_at: iso(c.scheduled_at),
      started_at: iso(c.started_at),
      finished_at: iso(c.finished_at),
      pause_code: c.paused_reason,
      paused_reason: describePause(c.paused_reason, c.paused_note),
      created_at: new Date(c.created_at).toISOString(),
    };
  }

  async function load(id: number): Promise<Campaign> {
    const c = await deps.campaigns.get(id);
    if (!c) throw new NotFoundError(`campaign ${id}`);
    return c;
  }

  function compiledOf(c: Campaign): CompiledIssue {
    if (!c.compiled_json) throw new StateError(`campaign ${c.id} has preflight errors; fix them before previewing or testing it here`);
    return JSON.parse(c.compiled_json) as CompiledIssue;
  }

  return {
    async list({ limit, offset }) {
      return Promise.all((await deps.campaigns.list(limit, offset)).map(view));
    },

    get: async (id) => view(await load(id)),

    async create(input: CreateCampaignInput, actor: Actor) {
      const list = await lists.findByName(input.list);
      if (!list) throw new InputError(`no list named "${input.list}"`, 'list');
      // An override becomes the compiled subject template, so the stored subject is what subscribers receive.
      const source = await deps.compile({ markdown: input.markdown, file: input.sourcePath ?? 'issue.md', subject: input.subject });
      // The same issue (slug) on the same list twice is one campaign (the CI path).
      const { campaign, outcome } = await deps.orchestrator.submit({
        listId: list.id,
        subject: source.subject,
        issueTitle: source.title,
        issueSlug: source.slug,
        issueDate: source.date,
        sourcePath: input.sourcePath,
        sourceMarkdown: input.markdown,
        compiledJson: JSON.stringify(source.compiled),
      }, actor);
      return { campaign: await view(campaign), warnings: source.warnings, outcome: outcome === 'create' ? 'created' as const : outcome === 'edit' ? 'edited' as const : 'existing' as const };
    },

    async previewHtml(id) {
      const c = await load(id);
      return deps.renderPreview(compiledOf(c), c);
    },

    async testSend(id, to, actor) {
      const c = await load(id);
      const sent = await deps.sendTest(c, compiledOf(c), to);
      await deps.orchestrator.recordTest(id, actor, sent);
      return { sent };
    },

    async send(id, at, actor, opts = {}) {
      const send = { canaryPercent: opts.canary };
      // A time more than a second ahead schedules (or moves the schedule); otherwise start now.
      if (at && at.getTime() > now() + 1000) {
        if (!(await deps.orchestrator.schedule(id, at, actor, send))) throw new StateError(`campaign ${id} changed state meanwhile; not scheduled`);
      } else if (!(await deps.orchestrator.start(id, actor, send))) {
        throw new StateError(`campaign ${id} changed state meanwhile; not started`);
      }
      return view(await load(id));
    },

    async pause(id, actor) {
      await deps.orchestrator.pauseByEditor(id, actor);
      return view(await load(id));
    },

    async resume(id, actor) {
      if (!(await deps.orchestrator.resume(id, { actor }))) throw new StateError(`campaign ${id} changed state meanwhile; not resumed`);
      return view(await load(id));
    },

    async cancel(id, actor) {
      await deps.orchestrator.cancel(id, actor);
      return view(await load(id));
    },

    async stats(id, options): Promise<CampaignStatsView> {
      return options?.health === false ? deps.orchestrator.progressStats(id) : deps.orchestrator.stats(id);
    },

    async unschedule(id, actor) {
      if (!(await deps.orchestrator.unschedule(id, actor))) throw new StateError(`campaign ${id} changed state meanwhile; not unscheduled`);
      return view(await load(id));
    },

    async listNames() {
      return (await lists.all()).map((l) => l.name);
    },

    async saveDraft(id, input, actor) {
      const draftIssue = needs(deps.draftIssue, 'draftIssue');
      const subject = input.subject?.trim() ? input.subject : undefined;
      const existing = id === null ? null : await load(id);
      const issue = await draftIssue({ markdown: input.markdown, file: existing?.source_path ?? 'issue.md', subject, errorLocation: 'markdown' });
      const compiledJson = issue.sendable ? JSON.stringify(issue.sendable.compiled) : null;
      const content = { subject: issue.subject, issueTitle: issue.title, issueDate: issue.date, sourceMarkdown: input.markdown, compiledJson };
      let campaign: Campaign;
      if (existing) {
        const detail = issue.errors > 0 ? `in the workspace; ${issue.errors} preflight error(s) remain` : 'in the workspace';
        campaign = await deps.orchestrator.editIssue(existing.id, { ...content, sourcePath: existing.source_path }, actor, detail);
      } else {
        const list = await lists.findByName(input.list);
        if (!list) throw new InputError(`no list named "${input.list}"`, 'list');
        campaign = await deps.orchestrator.create({ ...content, listId: list.id, issueSlug: issue.slug, sourcePath: null, status: 'draft', scheduledAt: null }, actor);
      }
      return { campaign: await view(campaign), diagnostics: issue.diagnostics.map(diagnosticView), errors: issue.errors };
    },

    async draft(id) {
      const c = await load(id);
      const issue = await needs(deps.draftIssue, 'draftIssue')({ markdown: c.source_markdown, file: c.source_path ?? 'issue.md' });
      return { campaign: await view(c), markdown: c.source_markdown, subjectOverride: c.subject === issue.templateSubject ? null : c.subject, sendable: c.compiled_json !== null };
    },

    async preview(input) {
      const issue = await needs(deps.draftIssue, 'draftIssue')({ markdown: input.markdown, file: 'issue.md', subject: input.subject?.trim() ? input.subject : undefined });
      const campaign = input.campaignId !== undefined ? await load(input.campaignId) : null;
      // No such list yet: previewed all the same (List-Id of no list), saving will say so.
      const list = (campaign ? await lists.findById(campaign.list_id) : await lists.findByName(input.list)) ?? { id: 0, name: input.list };
      const base = {
        diagnostics: issue.diagnostics.map(diagnosticView),
        errors: issue.errors,
        subject: issue.subject,
        templateSubject: issue.templateSubject,
        clipBytes: GMAIL_CLIP_BYTES,
      };
      if (!issue.compiled) {
        return { ...base, preheader: '', html: null, text: null, htmlBytes: null, messageBytes: null, reader: { email: input.as ?? '', name: null, sample: true, note: 'the issue does not compile' } };
      }
      const source = { campaignId: campaign?.id ?? 0, listId: list.id, issueSlug: campaign?.issue_slug ?? issue.slug, compiled: issue.compiled };
      const { copy, reader } = await needs(deps.readerCopy, 'readerCopy')(source, { id: list.id, name: list.name }, input.as?.trim() || undefined);
      return { ...base, subject: copy.subject, preheader: copy.preheader, html: copy.html, text: copy.text, htmlBytes: copy.htmlBytes, messageBytes: copy.messageBytes, reader };
    },

    async sendEstimate(id) {
      const c = await load(id);
      const [size, rate] = await Promise.all([needs(deps.audienceSize, 'audienceSize')(c.list_id), needs(deps.sendRate, 'sendRate')()]);
      return { ...estimateSend(size.n, rate), countedAt: size.countedAt };
    },

    async activity(id) {
      return (await deps.orchestrator.activity(id)).map((e) => ({ ...e, actor: { ...e.actor }, at: new Date(e.at).toISOString() }));
    },
  };
}
