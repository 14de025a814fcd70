/**
 * What the API and the dashboard need from the rest of the system, as narrow interfaces.
 * src/app-context.ts implements them over the store repositories, the campaign
 * orchestrator and the compiler; the HTTP layer knows nothing else.
 */
import type { PauseCode } from '../../campaigns/pause-reason.js';
import type { Actor, ActivityAction, ActorRole } from '../../campaigns/campaign-activity.js';
import type { Readable } from 'node:stream';
import type { CampaignStats } from '../../campaigns/campaign-stats.js';
import type { HealthFigures } from '../../campaigns/campaign-health.js';
import type { Diagnostic } from '../../render/types.js';
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
  Partial<HealthFigures> & { id?: number; paused_reason?: string | null };

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
  send(id: number, at: Date | undefined, actor: Actor): Promise<CampaignView>;
  pause(id: number, actor: Actor): Promise<CampaignView>;
  resume(id: number, actor: Actor): Promise<CampaignView>;
  cancel(id: number, actor: Actor): Promise<CampaignView>;
  stats(id: number): Promise<CampaignStatsView>;
  /** The activity log, oldest first. */
  activity(id: number): Promise<ActivityView[]>;
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
