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
import { checkIssueDetailed } from '../render/check-issue.js';
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

/**
 * An issue as the editor's workspace holds it: everything `check` reports (the same pass,
 * render/check-issue.ts), the compiled issue when it compiles at all (errors such as an
 * empty link still compile, so the preview shows them), and the sendable campaign issue
 * only when no error remains. A draft is saved either way; only a sendable one can be
 * scheduled or sent (the orchestrator refuses a campaign without its compiled issue).
 */
export interface DraftIssue {
  /** Sorted by line, errors and warnings. */
  diagnostics: Diagnostic[];
  errors: number;
  /** With the subject applied (override, else SUBJECT_TEMPLATE, else the title); null when it did not compile. */
  compiled: CompiledIssue | null;
  /** Null while errors remain. */
  sendable: CampaignIssue | null;
  title: string;
  slug: string;
  date: string | null;
  /** The stored subject (the override when given). */
  subject: string;
  /** What SUBJECT_TEMPLATE gives for this issue, shown beside the override field. */
  templateSubject: string;
  /** The HTML as sent, in bytes (what Gmail's 102 KB clip measures); null when it did not compile. */
  htmlBytes: number | null;
}

export async function draftCampaignIssue(source: IssueSource, config: Config): Promise<DraftIssue> {
  const options = compileOptionsFromConfig(config);
  const issue = parseIssue(source.markdown, source.file, { siteUrl: options.siteUrl });
  const { diagnostics, result } = await checkIssueDetailed(issue, options);
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const title = issue.title ?? '(untitled)';
  if (!result) {
    const subject = source.subject !== undefined && source.subject.trim() !== '' ? stripControl(source.subject) : title;
    return { diagnostics, errors, compiled: null, sendable: null, title, slug: issue.slug, date: issue.date, subject, templateSubject: title, htmlBytes: null };
  }
  const templated = withSubjectOrTitle(result.compiled);
  const compiled = source.subject !== undefined ? withSubject(result.compiled, source.subject) : templated;
  const subject = storedSubject(compiled);
  const meta = compiled.meta;
  const sendable: CampaignIssue | null =
    errors === 0 ? { compiled, title: meta.title, slug: meta.slug, date: meta.date, subject, warnings: diagnostics.filter((d) => d.severity === 'warning') } : null;
  return { diagnostics, errors, compiled, sendable, title: meta.title, slug: meta.slug, date: meta.date, subject, templateSubject: storedSubject(templated), htmlBytes: result.htmlBytes };
}
