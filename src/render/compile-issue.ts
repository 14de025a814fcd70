import { randomBytes } from 'node:crypto';
import Handlebars from 'handlebars';
import { compile as compileHtmlToText } from 'html-to-text';
import juice from 'juice';
import mjml2html from 'mjml';
import { InputError } from '../errors.js';
import { analyzeMarkdown, markdown, plainText, type Token } from '../issue/markdown.js';
import type { Issue } from '../issue/types.js';
import { stripControl } from './mime.js';
import { escapeTemplateText, TEMPLATE_CONSTANTS } from './template-text.js';
import { loadTemplates } from './templates.js';
import type { CompiledIssue, Diagnostic } from './types.js';

/** Gmail clips messages whose HTML exceeds about 102 KB. */
export const GMAIL_CLIP_BYTES = 102 * 1024;

export interface CompileOptions {
  /** SITE_URL; defaults to the one the issue was parsed with. */
  siteUrl?: string | null;
  /** SUBJECT_TEMPLATE: Handlebars over the front matter; may use {{name}} / {{email}}. */
  subjectTemplate?: string;
  /** POSTAL_ADDRESS: sender's postal line for the footer. */
  postalAddress?: string | null;
  /** LIST_NAME shown in header and footer. */
  listName?: string;
  /** Directory with layout.mjml.hbs, partials/, theme.css, text.hbs. */
  templatesDir?: string;
  /**
   * The hidden footer link no reader sees (PUBLIC_URL + TRAP_LINK_PATH): a click on it is a
   * scanner's (src/events/engagement-class.ts). Null or absent: no trap link.
   */
  trapUrl?: string | null;
}

export interface CompileResult {
  compiled: CompiledIssue;
  /** The full MJML source, content included; per-recipient fields are random sentinels. */
  mjml: string;
  /** The same MJML with the fields shown as Handlebars placeholders (for `render --format mjml`). */
  mjmlTemplate: string;
  /** Every diagnostic: the issue's own plus compile-time ones (MJML, size). */
  diagnostics: Diagnostic[];
  /** Byte size of the HTML part for a sample recipient. */
  htmlBytes: number;
}

/** Compiling refused: the diagnostics say why (missing title, MJML errors). */
export class IssueCompileError extends InputError {
  readonly diagnostics: Diagnostic[];
  constructor(file: string, diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => `${d.line ? `line ${d.line}: ` : ''}${d.message}`).join('; '), file);
    this.diagnostics = diagnostics;
  }
}

/** Per-recipient fields, in the templates as {{name}} / {{email}} / {{unsubscribeUrl}}. */
const FIELDS = ['name', 'email', 'unsubscribeUrl', 'archiveUrl'] as const;

/** Compile an issue once: the result holds Handlebars sources for subject, HTML and text. */
export async function compileIssue(issue: Issue, options: CompileOptions = {}): Promise<CompiledIssue> {
  const result = await compileIssueDetailed(issue, options);
  return result.compiled;
}

export async function compileIssueDetailed(issue: Issue, options: CompileOptions = {}): Promise<CompileResult> {
  const diagnostics: Diagnostic[] = [...issue.diagnostics];
  if (!issue.title) throw new IssueCompileError(issue.file, diagnostics.filter((d) => d.severity === 'error'));
  const templates = loadTemplates(options.templatesDir);
  const siteUrl = options.siteUrl !== undefined ? (options.siteUrl?.replace(/\/+$/, '') ?? null) : issue.siteUrl;
  const analyzed = analyzeMarkdown(issue.body, { siteUrl, lineOffset: issue.bodyLineOffset, file: issue.file });
  if (siteUrl !== issue.siteUrl) {
    // Link diagnostics depend on SITE_URL: take the ones computed with the URL used here.
    const linkMessages = new Set(analyzeMarkdown(issue.body, { siteUrl: issue.siteUrl, lineOffset: issue.bodyLineOffset, file: issue.file }).diagnostics.map(key));
    for (let i = diagnostics.length - 1; i >= 0; i--) if (linkMessages.has(key(diagnostics[i] as Diagnostic))) diagnostics.splice(i, 1);
    diagnostics.push(...analyzed.diagnostics);
  }
  dropEmptyLinks(analyzed.tokens);

  // Random sentinels stand for the per-recipient fields while MJML and juice run; they are
  // plain letters and digits so nothing rewrites them, and editors cannot guess them.
  const tag = `nl${randomBytes(6).toString('hex')}`;
  const sentinel = (name: string): string => `${tag}P${name}Q`;
  const placeholders: Record<string, string> = {
    ...Object.fromEntries(FIELDS.map((f) => [f, sentinel(f)])),
    ifArchive: sentinel('ifArchive'),
    endIf: sentinel('endIf'),
  };
  const replacements: Record<string, string> = {
    name: '{{name}}',
    email: '{{email}}',
    unsubscribeUrl: '{{unsubscribeUrl}}',
    archiveUrl: '{{archiveUrl}}',
    ifArchive: '{{#if archiveUrl}}',
    endIf: '{{/if}}',
  };
  const sentinelPattern = new RegExp(`${tag}P(\\w+?)Q`, 'g');
  const toTemplate = (rendered: string): string =>
    escapeTemplateText(rendered).replace(sentinelPattern, (_m, name: string) => replacements[name] ?? '');

  // The theme is inlined in one juice pass over all sections (juice's per-call setup costs
  // more than the work itself), then cut apart again at the markers.
  const rawSections = analyzed.sections.map((s) => markdown.renderer.render(analyzed.tokens.slice(s.start, s.end), markdown.options, {}));
  const splitter = `<!--${tag}split-->`;
  const juiced = juice.inlineContent(rawSections.join(splitter), templates.css, { applyWidthAttributes: false, applyHeightAttributes: false });
  let juicedSections = juiced.split(splitter);
  if (juicedSections.length !== rawSections.length) {
    juicedSections = rawSections.map((h) => juice.inlineContent(h, templates.css, { applyWidthAttributes: false, applyHeightAttributes: false }));
  }
  const sections = analyzed.sections.map((s, i) => ({
    title: s.title,
    html: juicedSections[i] as string,
    text: htmlToText(rawSections[i] as string),
  }));
  const dateText = issue.date ? formatDisplayDate(issue.date) : null;
  const preheader = truncate(stripControl(analyzed.firstParagraph), 140);
  const listName = options.listName ?? 'Newsletter';
  const data = {
    title: issue.title,
    dateText,
    preheader,
    sections,
    listName,
    postalAddress: options.postalAddress ?? null,
    trapUrl: options.trapUrl ?? null,
    placeholders,
  };
  const mjml = templates.layout(data);

  // MJML lays out the skeleton: content goes in as slots (mj-text bodies are raw HTML that
  // MJML copies verbatim), so its cost does not grow with the issue and repeated layouts
  // (same section count, list name, footer) come from a cache.
  const slots = new Map<string, string>();
  const slot = (name: string, value: string): string => {
    slots.set(`slot${name}`, value);
    return sentinel(`slot${name}`);
  };
  const skeleton = templates.layout({
    ...data,
    title: slot('title', escapeHtml(issue.title)),
    dateText: dateText ? slot('date', escapeHtml(dateText)) : null,
    preheader: slot('preheader', escapeHtml(preheader)),
    listName: slot('list', escapeHtml(listName)),
    postalAddress: data.postalAddress ? slot('postal', escapeHtml(data.postalAddress)) : null,
    sections: sections.map((s, i) => ({ ...s, html: slot(`s${i}`, s.html.trim()) })),
  });
  const skeletonHtml = await mjmlToHtml(skeleton.replaceAll(tag, 'NLTAG'), issue.file);
  const html = skeletonHtml.replaceAll('NLTAG', tag).replace(sentinelPattern, (m, name: string) => slots.get(name) ?? m);

  const textSource = templates.text(data).replace(/\n{3,}/g, '\n\n');
  const subjectRendered = Handlebars.compile(options.subjectTemplate ?? '{{title}}', { noEscape: true })({
    ...issue.frontMatter,
    title: issue.title,
    date: dateText ?? '',
    name: placeholders.name,
    email: placeholders.email,
  });

  const compiled: CompiledIssue = {
    version: 1,
    meta: { title: issue.title, date: issue.date, slug: issue.slug },
    subjectTemplate: toTemplate(stripControl(subjectRendered)),
    htmlTemplate: toTemplate(html),
    textTemplate: toTemplate(textSource),
    preheader,
    warnings: [],
  };

  // Size as sent: every mustache becomes a value of typical length (unsubscribe URLs ~150).
  const sampleValues: Record<string, string> = { ...TEMPLATE_CONSTANTS, email: 'subscriber@example.com', unsubscribeUrl: 'x'.repeat(150), archiveUrl: 'x'.repeat(80) };
  const htmlBytes = Buffer.byteLength(compiled.htmlTemplate.replace(/\{\{[#/]?(?:if )?(\w+)\}\}/g, (_m, n: string) => sampleValues[n] ?? ''));
  if (htmlBytes > GMAIL_CLIP_BYTES) {
    diagnostics.push({
      severity: 'error',
      file: issue.file,
      line: 1,
      message: `HTML is ${(htmlBytes / 1024).toFixed(1)} KB; Gmail clips messages over 102 KB`,
    });
  }
  compiled.warnings = diagnostics;
  const mjmlTemplate = mjml.replace(sentinelPattern, (_m, name: string) => replacements[name] ?? '');
  return { compiled, mjml, mjmlTemplate, diagnostics, htmlBytes };
}

const key = (d: Diagnostic): string => `${d.line}:${d.message}`;

/** `[text]()` links nowhere: in the email it stays text (check reports it as an error). */
function dropEmptyLinks(tokens: Token[]): void {
  for (const t of tokens) {
    if (t.type !== 'inline' || !t.children) continue;
    const kept: Token[] = [];
    let skipClose = 0;
    for (const c of t.children) {
      if (c.type === 'link_open' && String(c.attrGet('href') ?? '').trim() === '') {
        skipClose++;
        continue;
      }
      if (c.type === 'link_close' && skipClose > 0) {
        skipClose--;
        continue;
      }
      kept.push(c);
    }
    t.children = kept;
  }
}

/** Plain text of a section: every link kept as a visible URL after its text. */
export const htmlToText = compileHtmlToText({
  wordwrap: 78,
    selectors: [
      { selector: 'h1', options: { uppercase: false } },
      { selector: 'h2', options: { uppercase: false } },
      { selector: 'h3', options: { uppercase: false } },
      { selector: 'h4', options: { uppercase: false } },
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true, linkBrackets: ['<', '>'] } },
      { selector: 'img', options: { linkBrackets: ['<', '>'] } },
  ],
});

const mjmlCache = new Map<string, string>();

/** Forget cached MJML layouts (benchmarks measure the uncached path with it). */
export function clearMjmlCache(): void {
  mjmlCache.clear();
}

/** MJML (strict) with a small cache keyed by the skeleton source; errors become diagnostics. */
async function mjmlToHtml(source: string, file: string): Promise<string> {
  const hit = mjmlCache.get(source);
  if (hit !== undefined) return hit;
  try {
    const out = await mjml2html(source, { validationLevel: 'strict', keepComments: false, fonts: {} });
    if (mjmlCache.size >= 64) mjmlCache.delete(mjmlCache.keys().next().value as string);
    mjmlCache.set(source, out.html);
    return out.html;
  } catch (err) {
    const errors = (err as { errors?: Array<{ line: number; message: string }> }).errors;
    if (!errors) throw err;
    throw new IssueCompileError(
      file,
      errors.map<Diagnostic>((e) => ({ severity: 'error', file, line: 1, message: `MJML validation (generated MJML line ${e.line}): ${e.message}` })),
    );
  }
}

const escapeHtml = (s: string): string => Handlebars.Utils.escapeExpression(s);

function formatDisplayDate(iso: string): string {
  return new Date(iso).toLocaleDateString('en-US', { timeZone: 'UTC', year: 'numeric', month: 'long', day: 'numeric' });
}

function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

export { plainText };
