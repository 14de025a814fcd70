/**
 * CampaignsPort over the campaign orchestrator (state transitions, stats), the campaigns
 * repository and the compiler. The compiler and the test sender are passed in, so this
 * file holds only the glue an HTTP caller needs: views, scheduling, preview.
 */
import { InputError, NotFoundError, StateError } from '../../errors.js';
import type { CampaignOrchestrator } from '../../campaigns/campaign-orchestrator.js';
import { describePause } from '../../campaigns/pause-reason.js';
import type { CampaignIssue, IssueSource } from '../../campaigns/campaign-issue.js';
import type { CompiledIssue } from '../../render/types.js';
import type { CampaignsRepository } from '../../store/campaigns-repository.js';
import type { ListsRepository } from '../../store/lists-repository.js';
import type { Campaign } from '../../store/schema.js';
import type { Actor } from '../../campaigns/campaign-activity.js';
import type { CampaignsPort, CampaignStatsView, CampaignView, CreateCampaignInput } from './ports.js';

export interface CampaignsServiceDeps {
  campaigns: CampaignsRepository;
  /** List names for the views. */
  lists: Pick<ListsRepository, 'findById' | 'findByName'>;
  orchestrator: CampaignOrchestrator;
  /** Parse + compile Markdown and derive the subject (the CLI's path too); throws InputError (with the diagnostics) when it cannot. */
  compile: (source: IssueSource) => Promise<CampaignIssue>;
  /** The HTML a sample subscriber would see. */
  renderPreview: (compiled: CompiledIssue, campaign: Campaign) => string;
  /** Send the campaign's message to these addresses, outside the ledger; returns the addresses sent to. */
  sendTest: (campaign: Campaign, compiled: CompiledIssue, to: string[]) => Promise<string[]>;
  now?: () => number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

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
    if (!c.compiled_json) throw new StateError(`campaign ${c.id} has no compiled issue`);
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

    async stats(id): Promise<CampaignStatsView> {
      return deps.orchestrator.stats(id);
    },

    async activity(id) {
      return (await deps.orchestrator.activity(id)).map((e) => ({ ...e, actor: { ...e.actor }, at: new Date(e.at).toISOString() }));
    },
  };
}
