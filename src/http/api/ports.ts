/**
 * What the API and the dashboard need from the rest of the system, as narrow interfaces.
 * src/app-context.ts implements them over the store repositories, the campaign
 * orchestrator and the compiler; the HTTP layer knows nothing else.
 */
import type { CanaryView } from '../../campaigns/canary-wave.js';
import type { PauseCode } from '../../campaigns/pause-reason.js';
import type { Actor, ActivityAction, ActorRole } from '../../campaigns/campaign-activity.js';
import type { Readable } from 'node:stream';
import type { CampaignStats } from '../../campaigns/campaign-stats.js';
import type { HealthFigures } from '../../campaigns/campaign-health.js';
import type { Diagnostic } from '../../render/types.js';
import type { SendEstimate } from '../../campaigns/send-estimate.js';
import type { CampaignStatus, SubscriberStatus } from '../../store/schema.js';
import type { ImportReport } from '../../subscribers/csv-import.js';
import type { CsvEncoding } from '../../subscribers/text-encoding.js';
import type { SubscriberView } from '../../subscribers/subscriber-service.js';

/**
 * The stats contract (CLI --json and API): the orchestrator's derived stats, with the
 * fields beyond the contract optional here, plus what the dashboard shows beside them.
 */
export type CampaignStatsView = Omit<CampaignStats, 'uncertain' | 'cancelled' | 'eta'> &
  Partial<Pick<CampaignStats, 'uncertain' | 'cancelled' | 'eta'>> &
  Partial<HealthFigures> & { id?: number; paused_reason?: string | null; canary?: CanaryView | null; canary_text?: string | null };

export interface CampaignView {
  id: number;
  status: CampaignStatus;
  subject: string;
  title: string;
  list: string;
  total: number;
  scheduled_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  /** Machine code (src/campaigns/pause-reason.ts); paused_reason is its text for people. */
  pause_code: PauseCode | null;
  paused_reason: string | null;
  created_at: string;
}

export interface CreateCampaignInput {
  markdown: string;
  sourcePath: string | null;
  list: string;
  subject?: string;
}

/** The issue as the editor's workspace holds it (compose page). */
export interface WorkspaceInput {
  markdown: string;
  /** The list (a new draft only: a saved campaign keeps its list). */
  list: string;
  /** Empty or absent: the subject SUBJECT_TEMPLATE gives. */
  subject?: string;
}

export interface DiagnosticView {
  severity: 'error' | 'warning';
  /** 1-based line in the Markdown, null when the problem is the whole issue. */
  line: number | null;
  message: string;
}

/** Everything the workspace shows about an issue as one reader will get it. */
export interface PreviewView {
  diagnostics: DiagnosticView[];
  errors: number;
  subject: string;
  /** What SUBJECT_TEMPLATE gives (shown beside the override). */
  templateSubject: string;
  preheader: string;
  /** Null when the issue does not compile at all (the diagnostics say why). */
  html: string | null;
  text: string | null;
  htmlBytes: number | null;
  messageBytes: number | null;
  /** Gmail clips a message whose HTML is over this many bytes. */
  clipBytes: number;
  /** Who it is personalised for: a subscriber of the list, or a sample reader (and why). */
  reader: { email: string; name: string | null; sample: boolean; note: string | null };
}

/** A saved campaign reopened in the workspace. */
export interface DraftView {
  campaign: CampaignView;
  markdown: string;
  /** The subject when it differs from what SUBJECT_TEMPLATE gives (an override), else null. */
  subjectOverride: string | null;
  /** Preflight errors remain: it cannot be scheduled or sent. */
  sendable: boolean;
}

/** One activity entry as the API and the dashboard show it. */
export interface ActivityView {
  action: ActivityAction;
  actor: { name: string; role: ActorRole };
  detail: string | null;
  at: string;
}

/**
 * Every action takes the actor it is done for (the token's name and role): the campaign's
 * activity log records it.
 */
export interface CampaignsPort {
  list(options: { limit: number; offset: number }): Promise<CampaignView[]>;
  get(id: number): Promise<CampaignView>;
  /**
   * Idempotent per issue: the same slug on the same list answers the campaign already made
   * (src/campaigns/resubmission.ts). `outcome` says whether it was created, found unchanged
   * or edited.
   */
  create(input: CreateCampaignInput, actor: Actor): Promise<{ campaign: CampaignView; warnings: Diagnostic[]; outcome: 'created' | 'existing' | 'edited' }>;
  previewHtml(id: number): Promise<string>;
  testSend(id: number, to: string[], actor: Actor): Promise<{ sent: string[] }>;
  /** Start now, or schedule for `at` (or move the schedule of a scheduled campaign). */
  /** `canary`: percent of the audience in a first wave (0 = none; undefined = CANARY_PERCENT). */
  send(id: number, at: Date | undefined, actor: Actor, opts?: { canary?: number }): Promise<CampaignView>;
  pause(id: number, actor: Actor): Promise<CampaignView>;
  resume(id: number, actor: Actor): Promise<CampaignView>;
  cancel(id: number, actor: Actor): Promise<CampaignView>;
  /** `health: false` leaves the engagement and provider figures out (the dashboard list shows none of them). */
  stats(id: number, options?: { health?: boolean }): Promise<CampaignStatsView>;
  /** The activity log, oldest first. */
  activity(id: number): Promise<ActivityView[]>;
  /** Scheduled → draft: a pending send called off before it starts. */
  unschedule(id: number, actor: Actor): Promise<CampaignView>;
  /** List names, for the workspace's list picker. */
  listNames(): Promise<string[]>;
  /**
   * Save the workspace's issue: a new draft (`id` null) or an edit of a draft or scheduled
   * campaign, through the orchestrator (activity `created` / `edited`). Saved even with
   * preflight errors (a draft only); those are returned and keep it from being sent.
   */
  saveDraft(id: number | null, input: WorkspaceInput, actor: Actor): Promise<{ campaign: CampaignView; diagnostics: DiagnosticView[]; errors: number }>;
  draft(id: number): Promise<DraftView>;
  /** The issue in the workspace (saved or not) as `as` (a subscriber of the list) or a sample reader gets it. */
  preview(input: WorkspaceInput & { campaignId?: number; as?: string }): Promise<PreviewView>;
  /** Audience now, the send rate and the duration at that rate (send-estimate.ts). */
  sendEstimate(id: number): Promise<SendEstimate>;
}

export type { SubscriberView } from '../../subscribers/subscriber-service.js';

export interface SubscriberQuery {
  q?: string;
  list?: string;
  status?: SubscriberStatus;
  limit: number;
  offset: number;
}

export type ImportResultView = ImportReport;

export interface SubscribersPort {
  search(query: SubscriberQuery): Promise<{ items: SubscriberView[]; total: number }>;
  get(email: string): Promise<SubscriberView>;
  add(input: { email: string; name?: string | null; list: string; attributes?: Record<string, unknown> }): Promise<SubscriberView & { created: boolean }>;
  /** `errors` holds the first 1,000 row errors; `bad` counts them all. */
  importCsv(csv: Readable, list: string, options?: { encoding?: CsvEncoding; source?: string }): Promise<ImportResultView>;
  /** Unsubscribe from one list, or from everything when `list` is omitted. */
  unsubscribe(email: string, list?: string): Promise<SubscriberView>;
  remove(email: string): Promise<void>;
}
