import type { Diagnostic } from '../render/types.js';

/** A link or image the Markdown parser found, with where it is in the source file. */
export interface IssueLink {
  kind: 'link' | 'image';
  /** The destination as the parser normalized it (before resolution). */
  href: string;
  /** Absolute URL after resolving root-relative paths against SITE_URL; null when it cannot be made absolute. */
  url: string | null;
  /** Link text, or the image's alt text. */
  text: string;
  /** 1-based line in the source file. */
  line: number;
}

export interface IssueSection {
  /** Heading text; null for the part before the first `##` heading. */
  title: string | null;
  /** 1-based line of the heading (or of the first content line). */
  line: number;
}

/** A parsed issue file. Pure data: no IO happened to build it besides reading the file. */
export interface Issue {
  file: string;
  /** Front matter keys as strings (layout, title, date, slug, …). */
  frontMatter: Record<string, string>;
  title: string | null;
  /** ISO 8601 timestamp from the `date:` key, else from a YYYY-MM-DD prefix of the file name/slug. */
  date: string | null;
  slug: string;
  /** Markdown body with the web-only header cut out (cut lines are blanked so line numbers hold). */
  body: string;
  /** Number of source lines before the body (front matter), to turn body lines into file lines. */
  bodyLineOffset: number;
  /** Base used to resolve root-relative links; null when SITE_URL is unset. */
  siteUrl: string | null;
  sections: IssueSection[];
  links: IssueLink[];
  /** Problems found while parsing (front matter, links, images). */
  diagnostics: Diagnostic[];
}

export interface ParseOptions {
  /** SITE_URL: base for root-relative links and images. */
  siteUrl?: string | null;
}
