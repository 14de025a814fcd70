/**
 * From an issue file to a campaign row: parse, compile once (the compiled issue is frozen
 * in the campaign), refuse on errors. Used by the CLI `send` and the API.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config.js';
import { InputError, NotFoundError } from '../errors.js';
import { parseIssueFile } from '../issue/parse-issue.js';
import { compileIssueDetailed } from '../render/compile-issue.js';
import { compileOptionsFromConfig } from '../render/options-from-config.js';
import Handlebars from 'handlebars';
import type { Campaign } from '../store/schema.js';
import type { SendContext } from './send-context.js';

export interface SendRequest {
  file: string;
  listName: string;
  /** Scheduled start; unset = now. */
  at?: Date;
}

export async function createCampaignFromFile(ctx: SendContext, config: Config, req: SendRequest): Promise<{ campaign: Campaign; warnings: string[] }> {
  const listId = await ctx.audience.listIdByName(req.listName);
  if (listId === undefined) throw new NotFoundError(`list "${req.listName}"`);
  const path = resolve(req.file);
  const options = compileOptionsFromConfig(config);
  const issue = parseIssueFile(path, { siteUrl: options.siteUrl });
  const result = await compileIssueDetailed(issue, options);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    throw new InputError(errors.map((d) => `${d.line ? `line ${d.line}: ` : ''}${d.message}`).join('; '), req.file);
  }
  const compiled = result.compiled;
  if (req.at && Number.isNaN(req.at.getTime())) throw new InputError('--at must be an ISO 8601 date-time');
  // The stored subject is the template rendered without recipient fields (for lists and the dashboard).
  const subject = Handlebars.compile(compiled.subjectTemplate, { noEscape: true })({ name: '', email: '' }).trim() || compiled.meta.title;
  const campaign = await ctx.orchestrator.create({
    listId,
    subject,
    issueTitle: compiled.meta.title,
    issueSlug: compiled.meta.slug,
    issueDate: compiled.meta.date,
    sourcePath: path,
    sourceMarkdown: readFileSync(path, 'utf8'),
    compiledJson: JSON.stringify(compiled),
    scheduledAt: req.at ? req.at.getTime() : null,
    status: req.at ? 'scheduled' : 'draft',
  });
  return { campaign, warnings: result.diagnostics.filter((d) => d.severity === 'warning').map((d) => `${d.line ? `line ${d.line}: ` : ''}${d.message}`) };
}
