import { InputError } from '../errors.js';
import { parseIssueFile } from '../issue/parse-issue.js';
import type { Issue } from '../issue/types.js';
import { compileIssueDetailed, IssueCompileError, type CompileOptions, type CompileResult } from './compile-issue.js';
import type { Diagnostic } from './types.js';

/**
 * Preflight one issue: the parser's diagnostics (front matter, empty/relative links, images
 * without alt) plus the compiler's (MJML validation, Gmail's 102 KB clipping), sorted by line.
 */
export async function checkIssue(issue: Issue, options: CompileOptions = {}): Promise<Diagnostic[]> {
  return (await checkIssueDetailed(issue, options)).diagnostics;
}

/**
 * checkIssue, keeping the compile it did: `result` is null when the issue could not be
 * compiled at all (no title, MJML refused it). The workspace previews from the same pass
 * that found the diagnostics, so what it lists and what it shows never disagree.
 */
export async function checkIssueDetailed(issue: Issue, options: CompileOptions = {}): Promise<{ diagnostics: Diagnostic[]; result: CompileResult | null }> {
  let diagnostics: Diagnostic[];
  let result: CompileResult | null = null;
  try {
    result = await compileIssueDetailed(issue, options);
    diagnostics = result.diagnostics;
  } catch (err) {
    if (!(err instanceof IssueCompileError)) throw err;
    diagnostics = [...issue.diagnostics, ...err.diagnostics.filter((d) => !issue.diagnostics.includes(d))];
  }
  return { diagnostics: dedupe(diagnostics).sort((a, b) => (a.line ?? 0) - (b.line ?? 0)), result };
}

/** checkIssue for a file; unreadable/invalid files become one error diagnostic instead of a throw. */
export async function checkIssueFile(path: string, options: CompileOptions = {}): Promise<Diagnostic[]> {
  let issue: Issue;
  try {
    issue = parseIssueFile(path, { siteUrl: options.siteUrl ?? null });
  } catch (err) {
    if (err instanceof InputError) {
      // InputError prefixes its message with "file[:line]: "; split that back into fields.
      const loc = err.location ?? path;
      const line = /:(\d+)$/.exec(loc)?.[1];
      const message = err.message.startsWith(`${loc}: `) ? err.message.slice(loc.length + 2) : err.message;
      return [{ severity: 'error', file: path, ...(line ? { line: Number(line) } : {}), message }];
    }
    throw err;
  }
  return checkIssue(issue, options);
}

function dedupe(list: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return list.filter((d) => {
    const k = `${d.severity}:${d.line}:${d.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
