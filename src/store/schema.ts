/**
 * Table types for Kysely. Timestamps are epoch milliseconds (bigint in Postgres,
 * integer in SQLite, parsed to number on both); JSON columns are text holding JSON,
 * so one query code path serves both dialects.
 */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { PauseCode } from '../campaigns/pause-reason.js';
import type { CanaryPhase } from '../campaigns/state-machine.js';

/**
 * `sunset`: no human engagement in the last N issues (`subscribers inactive --suppress`); the
 * audience skips it like any non-active status, and the reader undoes it from any past
 * email's unsubscribe page or the sign-up form.
 */
export type SubscriberStatus = 'active' | 'sunset' | 'unsubscribed' | 'bounced' | 'complained';
export type MembershipStatus = 'subscribed' | 'unsubscribed';
export type CampaignStatus = 'draft' | 'scheduled' | 'sending' | 'paused' | 'sent' | 'cancelled';
/**
 * Ledger row lifecycle: queued → sending (claimed by a worker) → sent (SES accepted) →
 * delivered | bounced | complained; or failed (permanent error), skipped (subscriber left
 * before their turn), cancelled (campaign cancelled before their turn).
 */
export type DeliveryStatus =
  | 'queued'
  | 'sending'
  | 'sent'
  | 'failed'
  | 'delivered'
  | 'bounced'
  | 'complained'
  | 'skipped'
  | 'cancelled';
export type SuppressionReason = 'bounced' | 'complained' | 'removed' | 'ses-suppression-list';
export type TokenRole = 'editor' | 'admin';

type Id = Generated<number>;
type CreatedAt = ColumnType<number, number, never>;

export interface SubscribersTable {
  id: Id;
  /** Normalised: trimmed and lower-cased; unique. */
  email: string;
  name: string | null;
  status: SubscriberStatus;
  /** JSON object of extra CSV columns / API attributes. */
  attributes: string;
  status_reason: string | null;
  created_at: CreatedAt;
  updated_at: number;
}

export interface ListsTable {
  id: Id;
  name: string;
  created_at: CreatedAt;
}

export interface ListMembersTable {
  list_id: number;
  subscriber_id: number;
  status: MembershipStatus;
  created_at: CreatedAt;
  updated_at: number;
}

export interface SuppressionsTable {
  /** Normalised email; suppressions outlive `subscribers remove`. */
  email: string;
  reason: SuppressionReason;
  detail: string | null;
  created_at: CreatedAt;
}

export interface CampaignsTable {
  id: Id;
  list_id: number;
  status: CampaignStatus;
  subject: string;
  /** Issue front matter and source, kept so the campaign can be re-rendered or audited. */
  issue_title: string;
  issue_slug: string;
  issue_date: string | null;
  source_path: string | null;
  source_markdown: string;
  /** Serialized CompiledIssue frozen when the send starts (JSON). */
  compiled_json: string | null;
  scheduled_at: number | null;
  started_at: number | null;
  finished_at: number | null;
  /** Audience freeze: only members with subscriber id ≤ this and joined before started_at. */
  audience_max_subscriber_id: number | null;
  /** Keyset cursor of the fan-out: last subscriber id enqueued. */
  fanout_cursor: number;
  fanout_done: ColumnType<number, number | undefined, number>;
  total: ColumnType<number, number | undefined, number>;
  /** 1: `total` is the counted audience; 0: the count is pending (the fan-out fills it in, CampaignsRepository.fillTotal). */
  total_known: ColumnType<number, number | undefined, number>;
  /** Why the campaign is held: a code of src/campaigns/pause-reason.ts. */
  paused_reason: PauseCode | null;
  /** Detail for people (e.g. the breaker's measured rate). */
  paused_note: ColumnType<string | null, string | null | undefined, string | null>;
  /** Canary wave (src/campaigns/canary-wave.ts): share of the audience in the first wave, 0 < p ≤ 100; null = none. */
  canary_percent: ColumnType<number | null, number | null | undefined, number | null>;
  /** How long the campaign holds after the wave is out (ms). */
  canary_wait_ms: ColumnType<number | null, number | null | undefined, number | null>;
  /** Recipients in the wave (fixed at start). */
  canary_size: ColumnType<number | null, number | null | undefined, number | null>;
  /** selecting → wave → waiting → released (state-machine.ts `CANARY_PHASES`); null = no canary. */
  canary_phase: ColumnType<CanaryPhase | null, CanaryPhase | null | undefined, CanaryPhase | null>;
  /** End of the wait (epoch ms), persisted: the worker's sweep releases the rest once it passes. */
  canary_until: ColumnType<number | null, number | null | undefined, number | null>;
  created_at: CreatedAt;
  updated_at: number;
}

export interface DeliveriesTable {
  campaign_id: number;
  subscriber_id: number;
  /** Address at fan-out time (subscriber rows may be removed later). */
  email: string;
  status: DeliveryStatus;
  ses_message_id: string | null;
  attempts: ColumnType<number, number | undefined, number>;
  last_error: string | null;
  claimed_by: string | null;
  claimed_at: number | null;
  sent_at: number | null;
  /** Set when SES's Send event confirms the message (reconciliation of uncertain rows). */
  confirmed_at: number | null;
  outcome_at: number | null;
  opened_at: number | null;
  clicked_at: number | null;
  /** 1: the row belongs to the campaign's canary wave (written by DeliveryLedger.insertCanaryWave). */
  wave: ColumnType<number, number | undefined, number>;
  /** The send job the fan-out put the row in: its batch's first subscriber id (migration 0026); null: a job of its own. */
  send_batch: ColumnType<number | null, number | null | undefined, number | null>;
  created_at: CreatedAt;
  updated_at: number;
}

export interface EventsTable {
  id: Id;
  /** SNS MessageId: unique, so a replayed notification is stored once. */
  sns_message_id: string;
  /** bounce | complaint | delivery | send | reject | delivery_delay | open | click | rendering_failure | subscription */
  type: string;
  /** Permanent | Transient | Undetermined, complaint feedback type, … */
  subtype: string | null;
  ses_message_id: string | null;
  email: string | null;
  campaign_id: number | null;
  subscriber_id: number | null;
  /** Clicked link, bounce diagnostic, … */
  detail: string | null;
  occurred_at: number;
  payload: string;
  created_at: CreatedAt;
  /** Opens and clicks: human | machine | unknown (src/events/engagement-class.ts); null otherwise or when stored before 0011. */
  engagement: ColumnType<string | null, string | null | undefined, string | null>;
  engagement_reason: ColumnType<string | null, string | null | undefined, string | null>;
}

/** A campaign's bounces, soft bounces, complaints and delays per mailbox provider and SMTP status (written by the event writer). */
export interface CampaignProviderCountsTable {
  campaign_id: number;
  /** A label of src/events/mailbox-provider.ts MAILBOX_PROVIDERS. */
  provider: string;
  /** bounce | soft_bounce | complaint | delay */
  kind: string;
  /** `5.7.515`, `550`, or '' when none was reported. */
  smtp_status: string;
  n: number;
}

export interface ApiTokensTable {
  id: Id;
  name: string;
  role: TokenRole;
  /** sha256 hex of the token; the token itself is shown once and never stored. */
  token_hash: string;
  created_at: CreatedAt;
  /** Written at most once a minute per token (not a write per request). */
  last_used_at: number | null;
  /** Epoch ms after which the token is refused; null = never expires. */
  expires_at: number | null;
  /** The holder's address (workspace test sends go there by default); null = none given. */
  email: ColumnType<string | null, string | null | undefined, string | null>;
}

/**
 * The last count of each list's audience (migration 0021) and the instant it describes; a cache
 * for the send confirmation, kept by src/campaigns/audience-sizes.ts. Campaigns never read it.
 */
export interface ListAudienceSizesTable {
  list_id: number;
  n: number;
  counted_at: number;
}

export interface Database {
  subscribers: SubscribersTable;
  lists: ListsTable;
  list_members: ListMembersTable;
  suppressions: SuppressionsTable;
  campaigns: CampaignsTable;
  deliveries: DeliveriesTable;
  events: EventsTable;
  api_tokens: ApiTokensTable;
  signup_requests: SignupRequestsTable;
  campaign_activity: CampaignActivityTable;
  campaign_provider_counts: CampaignProviderCountsTable;
  campaign_totals: CampaignTotalsTable;
  campaign_delivery_counts: CampaignDeliveryCountsTable;
  campaign_delivery_count_deltas: CampaignDeliveryCountsTable;
  campaign_progress_counts: CampaignProgressCountsTable;
  campaign_progress_count_deltas: CampaignProgressCountsTable;
  campaign_link_clicks: CampaignLinkClicksTable;
  campaign_engagement_marks: CampaignEngagementMarksTable;
  campaign_engagement_counts: CampaignEngagementCountsTable;
  list_audience_sizes: ListAudienceSizesTable;
}

export type Subscriber = Selectable<SubscribersTable>;
export type NewSubscriber = Insertable<SubscribersTable>;
export type SubscriberUpdate = Updateable<SubscribersTable>;
export type List = Selectable<ListsTable>;
export type Campaign = Selectable<CampaignsTable>;
export type Delivery = Selectable<DeliveriesTable>;
export type StoredEvent = Selectable<EventsTable>;
export type ApiToken = Selectable<ApiTokensTable>;

/**
 * A double opt-in request from the public sign-up form. No subscriber row exists for a
 * new address until the request is confirmed, so an unconfirmed address can never be in
 * a campaign's audience; rows past expires_at are deleted by SignupRequestsRepository.deleteExpired.
 */
export interface SignupRequestsTable {
  id: Id;
  /** Normalised address. */
  email: string;
  name: string | null;
  list_id: number;
  created_at: CreatedAt;
  expires_at: number;
  /** When SES accepted the confirmation mail. */
  mail_sent_at: number | null;
  ses_message_id: string | null;
  confirmed_at: number | null;
}

export type SignupRequest = Selectable<SignupRequestsTable>;

/**
 * One entry of a campaign's activity log (src/campaigns/campaign-activity.ts names the
 * actions and actors), written by the orchestrator in the transaction of the change.
 */
export interface CampaignActivityTable {
  id: Id;
  campaign_id: number;
  action: string;
  /** Token name, `cli` or `system`. */
  actor_name: string;
  /** `admin` | `editor` (a token), `cli`, `system`. */
  actor_role: string;
  /** What else is worth knowing: the schedule, the pause reason, the test addresses. */
  detail: string | null;
  at: number;
}

/**
 * The persisted totals of a pruned campaign (retention, migration 0013): what its stats,
 * chart and clicks per link read once its ledger and event rows are gone. Written by
 * LedgerRetentionRepository before the first row is deleted.
 */
export interface CampaignTotalsTable {
  campaign_id: number;
  /** JSON object: ledger rows per DeliveryStatus. */
  by_status: string;
  uncertain: number;
  opened: number;
  clicked: number;
  rows: number;
  /** JSON array of ProgressBucket at `series_width` ms (the dashboard chart). */
  series: string | null;
  series_width: number | null;
  /** Events created before this were counted and are deleted (null = none). */
  events_cutoff: number | null;
  created_at: CreatedAt;
  /** When the prune finished; null while it runs (a later run resumes it). */
  pruned_at: number | null;
  /** JSON PersistedHealth (src/store/campaign-health-repository.ts): engagement by class, providers, links, as of the prune. */
  health: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Clicks per link of a pruned campaign's deleted click events. */
export interface CampaignLinkClicksTable {
  campaign_id: number;
  url: string;
  clicks: number;
}

/**
 * Ledger rows per (campaign, status, mailbox provider), maintained by triggers on `deliveries`
 * (migration 0015; the reasoning is there). campaign_delivery_count_deltas has the same columns:
 * PostgreSQL's not yet folded statement deltas (DeliveryLedger.foldCounters). A campaign's
 * counts are the SUM over both tables.
 */
export interface CampaignDeliveryCountsTable {
  campaign_id: number;
  status: DeliveryStatus;
  provider: string;
  n: number;
  /** Rows with opened_at set. */
  opened: number;
  /** Rows with clicked_at set. */
  clicked: number;
}

/**
 * Ledger rows per (campaign, kind, epoch second) for the progress chart, maintained by triggers
 * on `deliveries` (migration 0019, which says what each kind counts). campaign_progress_count_deltas
 * has the same columns: PostgreSQL's not yet folded statement deltas. Counts are the SUM over both.
 */
export interface CampaignProgressCountsTable {
  campaign_id: number;
  kind: 'sent' | 'delivered' | 'bounced';
  second: number;
  n: number;
}

/**
 * A recipient's engagement mark for a campaign (migration 0020): the bits of
 * src/events/engagement-marks.ts for the classes of its open and click events. Written by the
 * event writer only.
 */
export interface CampaignEngagementMarksTable {
  campaign_id: number;
  subscriber_id: number;
  mark: number;
}

/** Recipients per engagement mark of a campaign (migration 0020); what the stats read. */
export interface CampaignEngagementCountsTable {
  campaign_id: number;
  mark: number;
  n: number;
}
