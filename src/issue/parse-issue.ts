import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { InputError } from '../errors.js';
import type { Diagnostic } from '../render/types.js';
import { parseFrontMatter, parseJekyllDate } from './front-matter.js';
import { analyzeMarkdown } from './markdown.js';
import type { Issue, ParseOptions } from './types.js';

/** Issues are a few KB; anything this large is a mistake (or an attack), not a newsletter. */
export const MAX_ISSUE_BYTES = 1024 * 1024;

const WEB_ONLY_START = /^\s*<!--\s*web-only\s*-->\s*$/i;
const WEB_ONLY_END = /^\s*<!--\s*\/\s*web-only\s*-->\s*$/i;
const COMMENT_LINE = /^\s*<!--.*-->\s*$/;

/**
 * Read and parse an issue file. IO errors, oversized files and invalid UTF-8 become an
 * InputError naming the file; everything about the content becomes a diagnostic.
 */
export function parseIssueFile(path: string, options: ParseOptions = {}): Issue {
  let bytes: Buffer;
  try {
    const size = statSync(path).size;
    if (size > MAX_ISSUE_BYTES) {
      throw new InputError(`file is ${(size / 1024 / 1024).toFixed(1)} MB; issues over ${MAX_ISSUE_BYTES / 1024 / 1024} MB are refused`, path);
    }
    bytes = readFileSync(path);
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read file (${code ?? (err as Error).message})`, path);
  }
  return parseIssue(decodeUtf8(bytes, path), path, options);
}

/** Strict UTF-8 decoding: a bad byte is reported with its line instead of becoming U+FFFD. */
export function decodeUtf8(bytes: Buffer, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    // Find the first bad sequence to name its line.
    let line = 1;
    let i = 0;
    while (i < bytes.length) {
      const len = utf8SequenceLength(bytes, i);
      if (len === 0) break;
      if (bytes[i] === 0x0a) line++;
      i += len;
    }
    throw new InputError(`invalid UTF-8 at byte ${i}`, `${file}:${line}`);
  }
}

function utf8SequenceLength(b: Buffer, i: number): number {
  const c = b[i] as number;
  if (c < 0x80) return 1;
  const need = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (need === 0 || i + need > b.length) return 0;
  for (let k = 1; k < need; k++) if (((b[i + k] as number) & 0xc0) !== 0x80) return 0;
  return need;
}

/** Parse issue source text. Never throws for content problems: they are diagnostics. */
export function parseIssue(source: string, file: string, options: ParseOptions = {}): Issue {
  if (Buffer.byteLength(source) > MAX_ISSUE_BYTES) {
    throw new InputError(`issue is larger than ${MAX_ISSUE_BYTES / 1024 / 1024} MB; refused`, file);
  }
  const text = source.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const lines = text.split('\n');
  const diagnostics: Diagnostic[] = [];
  const fm = parseFrontMatter(lines, file);
  diagnostics.push(...fm.diagnostics);
  const frontMatter = fm.data ?? {};
  if (!fm.data && fm.diagnostics.length === 0) {
    diagnostics.push({ severity: 'error', file, line: 1, message: 'no front matter: an issue starts with a `---` line, then title:, date:, slug:, then `---`' });
  }

  const title = frontMatter.title?.trim() || null;
  if (fm.data && !title) diagnostics.push({ severity: 'error', file, line: 1, message: 'missing title in front matter' });

  const fileStem = basename(file).replace(/\.(md|markdown)$/i, '');
  const slug = frontMatter.slug?.trim() || fileStem;
  let date: string | null = null;
  if (frontMatter.date !== undefined) {
    date = parseJekyllDate(frontMatter.date);
    if (!date) {
      const line = lines.findIndex((l) => /^date\s*:/.test(l)) + 1;
      const fallback = /^(\d{4}-\d{2}-\d{2})/.exec(frontMatter.date) ?? /^(\d{4}-\d{2}-\d{2})/.exec(fileStem);
      date = fallback ? parseJekyllDate(fallback[1] as string) : null;
      diagnostics.push({
        severity: 'warning',
        file,
        line: line || 1,
        message: `date "${frontMatter.date}" is not a valid date${date ? `; using ${date.slice(0, 10)}` : ''}`,
      });
    }
  } else {
    const m = /^(\d{4}-\d{2}-\d{2})/.exec(fileStem) ?? /^(\d{4}-\d{2}-\d{2})/.exec(slug);
    date = m ? parseJekyllDate(m[1] as string) : null;
  }

  // The body keeps its line positions: cut lines become blank lines.
  const bodyLines = lines.slice(fm.lineCount);
  let webOnlyStart = -1;
  for (let i = 0; i < bodyLines.length; i++) {
    const l = bodyLines[i] as string;
    if (webOnlyStart < 0 && WEB_ONLY_START.test(l)) webOnlyStart = i;
    else if (webOnlyStart >= 0 && WEB_ONLY_END.test(l)) {
      for (let k = webOnlyStart; k <= i; k++) bodyLines[k] = '';
      webOnlyStart = -1;
    }
  }
  if (webOnlyStart >= 0) {
    diagnostics.push({ severity: 'warning', file, line: fm.lineCount + webOnlyStart + 1, message: '<!-- web-only --> has no closing <!-- /web-only -->; nothing was cut' });
  }
  // Editor notes in HTML comments never reach subscribers (raw HTML is otherwise shown as text).
  for (let i = 0; i < bodyLines.length; i++) if (COMMENT_LINE.test(bodyLines[i] as string)) bodyLines[i] = '';
  const body = bodyLines.join('\n');

  const siteUrl = options.siteUrl ? options.siteUrl.replace(/\/+$/, '') : null;
  const analyzed = analyzeMarkdown(body, { siteUrl, lineOffset: fm.lineCount, file });
  diagnostics.push(...analyzed.diagnostics);
  if (body.trim() === '') diagnostics.push({ severity: 'warning', file, line: fm.lineCount + 1, message: 'issue has no body' });

  return {
    file,
    frontMatter,
    title,
    date,
    slug,
    body,
    bodyLineOffset: fm.lineCount,
    siteUrl,
    sections: analyzed.sections.map((s) => ({ title: s.title, line: s.line })),
    links: analyzed.links,
    diagnostics,
  };
}
