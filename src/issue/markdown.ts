import MarkdownIt from 'markdown-it';
import type { Diagnostic } from '../render/types.js';
import type { IssueLink } from './types.js';
import { isDeliverableUrl, resolveUrl } from './links.js';

/**
 * CommonMark, raw HTML off: editors write Markdown, and anything that looks like a tag
 * (`<policy name>`, `<script>`) is shown as text instead of reaching the mail client.
 */
export const markdown = new MarkdownIt('commonmark', { html: false, linkify: false, typographer: false });

export type Token = ReturnType<typeof markdown.parse>[number];

export interface SectionRange {
  title: string | null;
  line: number;
  /** Half-open range into `tokens`. */
  start: number;
  end: number;
}

export interface AnalyzedMarkdown {
  tokens: Token[];
  links: IssueLink[];
  sections: SectionRange[];
  diagnostics: Diagnostic[];
  /** Plain text of the first paragraph (for the preheader). */
  firstParagraph: string;
}

/**
 * Tokenize the body once and walk the token stream: collect every link and image with its
 * file line (token.map plus the soft breaks before it inside the paragraph), rewrite their
 * destinations to absolute URLs, and cut the stream into `##` sections.
 */
export function analyzeMarkdown(body: string, opts: { siteUrl: string | null; lineOffset: number; file: string }): AnalyzedMarkdown {
  const tokens = markdown.parse(body, {});
  const links: IssueLink[] = [];
  const diagnostics: Diagnostic[] = [];
  const sections: SectionRange[] = [];
  let firstParagraph = '';
  let inParagraph = false;

  const fileLine = (t: Token | undefined): number => (t?.map ? t.map[0] + 1 + opts.lineOffset : opts.lineOffset + 1);

  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.type === 'heading_open' && t.level === 0 && (t.tag === 'h1' || t.tag === 'h2')) {
      const inline = tokens[i + 1];
      const last = sections.at(-1);
      if (last) last.end = i;
      else if (i > 0) sections.push({ title: null, line: fileLine(tokens[0]), start: 0, end: i });
      sections.push({ title: inline ? plainText(inline) : '', line: fileLine(t), start: i, end: tokens.length });
    }
    if (t.type === 'paragraph_open') inParagraph = true;
    if (t.type === 'paragraph_close') inParagraph = false;
    if (t.type !== 'inline' || !t.children) continue;
    if (inParagraph && firstParagraph === '' && t.level === 1) firstParagraph = plainText(t);
    let breaks = 0;
    const children = t.children;
    for (let c = 0; c < children.length; c++) {
      const child = children[c] as Token;
      if (child.type === 'softbreak' || child.type === 'hardbreak') breaks++;
      const line = fileLine(t) + breaks;
      if (child.type === 'link_open') {
        const href = String(child.attrGet('href') ?? '');
        const url = resolveUrl(href, opts.siteUrl);
        let text = '';
        for (let k = c + 1; k < children.length && children[k]?.type !== 'link_close'; k++) text += children[k]?.content ?? '';
        links.push({ kind: 'link', href, url, text, line });
        if (href.trim() === '') {
          diagnostics.push({ severity: 'error', file: opts.file, line, message: `empty link [${text}]()` });
        } else if (!isDeliverableUrl(url)) {
          diagnostics.push({ severity: 'error', file: opts.file, line, message: linkProblem(href, opts.siteUrl) });
        }
        if (url) child.attrSet('href', url);
      } else if (child.type === 'image') {
        const src = String(child.attrGet('src') ?? '');
        const url = resolveUrl(src, opts.siteUrl);
        const alt = child.children ? child.children.map((x) => x.content).join('') : child.content;
        links.push({ kind: 'image', href: src, url, text: alt, line });
        if (alt.trim() === '') diagnostics.push({ severity: 'error', file: opts.file, line, message: `image without alt text: ${src}` });
        if (!isDeliverableUrl(url) || url?.startsWith('mailto:')) {
          diagnostics.push({ severity: 'error', file: opts.file, line, message: `image ${linkProblem(src, opts.siteUrl)}` });
        }
        if (url) child.attrSet('src', url);
      }
    }
  }
  if (sections.length === 0) sections.push({ title: null, line: opts.lineOffset + 1, start: 0, end: tokens.length });
  return { tokens, links, sections, diagnostics, firstParagraph };
}

function linkProblem(href: string, siteUrl: string | null): string {
  if (href.startsWith('/') && !href.startsWith('//') && !siteUrl) return `root-relative link ${href} needs SITE_URL to become absolute`;
  return `link is not an absolute http(s) or mailto URL: ${href}`;
}

/** Visible text of an inline token (code spans and link texts included, markup dropped). */
export function plainText(inline: Token): string {
  if (!inline.children) return inline.content;
  let out = '';
  for (const c of inline.children) {
    if (c.type === 'text' || c.type === 'code_inline') out += c.content;
    else if (c.type === 'softbreak' || c.type === 'hardbreak') out += ' ';
    else if (c.type === 'image') out += c.children ? c.children.map((x) => x.content).join('') : c.content;
  }
  return out;
}
