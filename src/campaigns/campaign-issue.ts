/**
 * Issue text → what a campaign freezes: the compiled issue, its title/slug/date and the
 * stored subject. The one path for `newsletter send` and `POST /api/campaigns` (the demo
 * creates its campaign through the API), so an issue gets the same subject whichever way
 * it is sent, and the stored subject is the one subscribers receive.
 */
import Handlebars from 'handlebars';
import type { Config } from '../config.js';
import { InputError } from '../errors.js';
import { parseIssue } from '../issue/parse-issue.js';
import { compileIssueDetailed } from '../render/compile-issue.js';
import { stripControl } from '../render/mime.js';
import { compileOptionsFromConfig } from '../render/options-from-config.js';
import { escapeTemplateText, TEMPLATE_CONSTANTS } from '../render/template-text.js';
import type { CompiledIssue, Diagnostic } from '../render/types.js';

export interface IssueSource {
  markdown: string;
  /** File name or path of the issue; diagnostics name it. */
  file: string;
  /** Replaces the subject SUBJECT_TEMPLATE gives; taken literally (braces and backslashes too). */
  subject?: string;
  /** What errors point at: the file (default; CLI) or a request field (API: `markdown`). */
  errorLocation?: string;
}

export interface CampaignIssue {
  /** Its subjectTemplate is the one every message uses (the override, when given). */
  compiled: CompiledIssue;
  title: string;
  slug: string;
  date: string | null;
  /** The subject as stored and as received (see storedSubject). */
  subject: string;
  warnings: Diagnostic[];
}

/** `line N: message`, as errors and warnings are shown. */
export const describeDiagnostic = (d: Diagnostic): string => `${d.line ? `line ${d.line}: ` : ''}${d.message}`;

function refuseOnErrors(diagnostics: readonly Diagnostic[], location: string): void {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new InputError(errors.map(describeDiagnostic).join('; '), location);
}

/** Parse and compile an issue for a campaign; InputError (naming the file or field, with lines) on errors. */
export async function compileCampaignIssue(source: IssueSource, config: Config): Promise<CampaignIssue> {
  const location = source.errorLocation ?? source.file;
  const options = compileOptionsFromConfig(config);
  const issue = parseIssue(source.markdown, source.file, { siteUrl: options.siteUrl });
  // Parse errors first: compiling (MJML) an issue already known to be refused is wasted time.
  refuseOnErrors(issue.diagnostics, location);
  const result = await compileIssueDetailed(issue, options);
  refuseOnErrors(result.diagnostics, location);
  const compiled = source.subject !== undefined ? withSubject(result.compiled, source.subject) : withSubjectOrTitle(result.compiled);
  return {
    compiled,
    title: compiled.meta.title,
    slug: compiled.meta.slug,
    date: compiled.meta.date,
    subject: storedSubject(compiled),
    warnings: result.diagnostics.filter((d) => d.severity === 'warning'),
  };
}

/**
 * The subject template rendered as the message factory renders it (same constants, same
 * control-character clean-up) but with no recipient fields: exactly the received subject
 * unless SUBJECT_TEMPLATE uses {{name}} or {{email}}.
 */
export function storedSubject(compiled: Pick<CompiledIssue, 'subjectTemplate'>): string {
  return stripControl(Handlebars.compile(compiled.subjectTemplate, { noEscape: true })({ ...TEMPLATE_CONSTANTS }));
}

/** The issue with `subject` as every message's subject, escaped so it is never read as Handlebars. */
export function withSubject(compiled: CompiledIssue, subject: string): CompiledIssue {
  return { ...compiled, subjectTemplate: escapeTemplateText(stripControl(subject)) };
}

/** A subject template that renders empty falls back to the title — in the mails too, not only in the store. */
function withSubjectOrTitle(compiled: CompiledIssue): CompiledIssue {
  return storedSubject(compiled) === '' ? withSubject(compiled, compiled.meta.title) : compiled;
}
