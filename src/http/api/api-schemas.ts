/** Zod schemas of the /api request and response bodies; the OpenAPI document is generated from these. */
import { z } from 'zod';
import { PAUSE_CODES } from '../../campaigns/pause-reason.js';
import { ACTIVITY_ACTIONS } from '../../campaigns/campaign-activity.js';

const campaignStatus = z.enum(['draft', 'scheduled', 'sending', 'paused', 'sent', 'cancelled']);
const subscriberStatus = z.enum(['active', 'sunset', 'unsubscribed', 'bounced', 'complained']);
const listName = z.string().trim().min(1).max(100).regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only');
const email = z.string().trim().max(254).pipe(z.email());

export const errorBody = z.object({ error: z.string(), field: z.string().optional() }).meta({ id: 'Error' });

export const idParams = z.object({ id: z.coerce.number().int().positive() });

export const campaignView = z
  .object({
    id: z.number().int(),
    status: campaignStatus,
    subject: z.string(),
    title: z.string(),
    list: z.string(),
    total: z.number().int(),
    scheduled_at: z.string().nullable(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    pause_code: z.enum(PAUSE_CODES).nullable(),
    paused_reason: z.string().nullable(),
    created_at: z.string(),
  })
  .meta({ id: 'Campaign' });

export const campaignStats = z
  .object({
    status: campaignStatus,
    total: z.number().int(),
    queued: z.number().int(),
    sent: z.number().int(),
    delivered: z.number().int(),
    bounced: z.number().int(),
    complained: z.number().int(),
    unsubscribed: z.number().int(),
    failed: z.number().int(),
    opened: z.number().int(),
    clicked: z.number().int(),
    opened_human: z.number().int().describe('Messages a person opened or clicked (unique)'),
    opened_machine: z.number().int().describe('Messages only machines opened or clicked (Apple MPP, scanners)'),
    opened_unknown: z.number().int(),
    clicked_human: z.number().int().describe('Messages a person clicked a link of (unique)'),
    clicked_machine: z.number().int(),
    clicked_unknown: z.number().int(),
    click_to_open_human: z.number().describe('clicked_human / opened_human'),
    providers: z.record(z.string(), z.object({
      sent: z.number().int(),
      delivered: z.number().int(),
      bounced: z.number().int(),
      complained: z.number().int(),
      soft_bounces: z.number().int(),
      deferred: z.number().int(),
      bounce_rate: z.number(),
      complaint_rate: z.number(),
      deferral_rate: z.number(),
      top_status: z.string().nullable(),
      statuses: z.array(z.object({ status: z.string(), n: z.number().int() })),
    }).loose()).describe('Per mailbox provider (gmail, microsoft, yahoo, apple, proton, gmx, other)'),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    rate_per_s: z.number(),
  })
  .loose()
  .meta({ id: 'CampaignStats' });

export const createCampaignBody = z
  .object({
    markdown: z.string().min(1).max(2_000_000).optional().describe('The issue as Markdown (front matter + ## sections)'),
    path: z
      .string()
      .min(1)
      .max(1000)
      .optional()
      .describe('Path of an issue .md file on the server, relative to its ISSUES_DIR (refused when ISSUES_DIR is unset)'),
    list: listName.default('default'),
    subject: z.string().trim().min(1).max(998).optional().describe('Overrides SUBJECT_TEMPLATE'),
  })
  .superRefine((v, ctx) => {
    if ((v.markdown === undefined) === (v.path === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['markdown'], message: 'give exactly one of markdown or path' });
    }
    if (v.subject !== undefined && /[\r\n]/.test(v.subject)) {
      ctx.addIssue({ code: 'custom', path: ['subject'], message: 'must be one line' });
    }
  });

export const createCampaignReply = z.object({
  campaign: campaignView,
  /** created (201); existing: the same issue and list already made this campaign, unchanged (200); edited: its draft or schedule took the new content (200). */
  outcome: z.enum(['created', 'existing', 'edited']),
  warnings: z.array(z.object({ severity: z.enum(['error', 'warning']), message: z.string(), line: z.number().optional() })),
});

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const testSendBody = z.object({
  to: z.union([email, z.array(email).min(1).max(10)]).transform((v) => (Array.isArray(v) ? v : [v])),
});

export const sendBody = z
  .object({
    at: z.iso.datetime({ offset: true }).optional().describe('ISO 8601 time to start; omitted = now'),
    canary: z
      .union([z.number(), z.string().trim().max(10)])
      .optional()
      .describe('Canary wave: send to this share of the audience first (5, "5%" or "0.5%"), hold the rest for CANARY_WAIT_MIN; 0 = none; omitted = CANARY_PERCENT'),
  })
  .default({});

export const subscriberView = z
  .object({
    id: z.number().int(),
    email: z.string(),
    name: z.string().nullable(),
    status: subscriberStatus,
    status_reason: z.string().nullable(),
    attributes: z.record(z.string(), z.unknown()),
    lists: z.array(z.object({ name: z.string(), status: z.enum(['subscribed', 'unsubscribed']), joined_at: z.string() })),
    suppressed: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'Subscriber' });

export const subscriberQuery = z.object({
  q: z.string().trim().max(254).optional().describe('Substring of email or name'),
  list: listName.optional(),
  status: subscriberStatus.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const addSubscriberBody = z.object({
  email,
  name: z
    .string()
    .trim()
    .max(200)
    .refine((v) => !/[\r\n]/.test(v), 'must be one line')
    .nullable()
    .optional(),
  list: listName.default('default'),
  attributes: z.record(z.string().max(100), z.union([z.string().max(1000), z.number(), z.boolean(), z.null()])).optional(),
});

export const emailParams = z.object({ email });

export const unsubscribeBody = z.object({ list: listName.optional() }).default({});

export const importQuery = z.object({
  list: listName.default('default'),
  encoding: z.enum(['utf8', 'latin1']).default('utf8').describe('the file\'s encoding; a file that is not valid UTF-8 is refused unless latin1 is given'),
});

export const importReply = z.object({
  imported: z.number().int(),
  updated: z.number().int(),
  skipped: z.number().int(),
  bad: z.number().int().describe('rows with an error; `errors` lists the first 1,000'),
  suppressed: z.number().int(),
  rows: z.number().int(),
  errors: z.array(z.object({ line: z.number().int(), message: z.string() })),
});

export const activityEntry = z.object({
  action: z.enum(ACTIVITY_ACTIONS),
  actor: z.object({ name: z.string(), role: z.enum(['admin', 'editor', 'cli', 'system']) }),
  detail: z.string().nullable(),
  at: z.string(),
});
