/**
 * From an issue file to a campaign row (CLI `send`): read the file, compile it once through
 * the same path as the API (campaign-issue.ts; the compiled issue is frozen in the
 * campaign), refuse on errors.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config.js';
import { InputError, NotFoundError } from '../errors.js';
import { decodeUtf8 } from '../issue/parse-issue.js';
import type { Campaign } from '../store/schema.js';
import { compileCampaignIssue, describeDiagnostic } from './campaign-issue.js';
import type { SendContext } from './send-context.js';
import { CLI_ACTOR } from './campaign-activity.js';

export interface SendRequest {
  file: string;
  listName: string;
  /** Scheduled start; unset = now. */
  at?: Date;
}

function readIssueText(path: string, shownAs: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new InputError(`cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, shownAs);
  }
  return decodeUtf8(bytes, shownAs);
}

export async function createCampaignFromFile(ctx: SendContext, config: Config, req: SendRequest): Promise<{ campaign: Campaign; warnings: string[] }> {
  const listId = await ctx.audience.listIdByName(req.listName);
  if (listId === undefined) throw new NotFoundError(`list "${req.listName}"`);
  if (req.at && Number.isNaN(req.at.getTime())) throw new InputError('--at must be an ISO 8601 date-time');
  const path = resolve(req.file);
  const markdown = readIssueText(path, req.file);
  const issue = await compileCampaignIssue({ markdown, file: path, errorLocation: req.file }, config);
  const campaign = await ctx.orchestrator.create({
    listId,
    subject: issue.subject,
    issueTitle: issue.title,
    issueSlug: issue.slug,
    issueDate: issue.date,
    sourcePath: path,
    sourceMarkdown: markdown,
    compiledJson: JSON.stringify(issue.compiled),
    scheduledAt: req.at ? req.at.getTime() : null,
    status: req.at ? 'scheduled' : 'draft',
  }, CLI_ACTOR);
  return { campaign, warnings: issue.warnings.map(describeDiagnostic) };
}
