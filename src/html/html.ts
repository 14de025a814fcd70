/**
 * The one place that escapes text for markup: HTML (reader pages, the dashboard, the
 * confirmation mail, the archive's banner) and XML (the archive's RSS feed, the SES
 * simulator's Query API answers), plus the page shell every reader-facing page shares.
 * Pure: strings in, strings out; no HTTP here (domain code uses it too). The reply headers
 * of those pages (CSP, cache) are src/http/pages/page-html.ts.
 */

// Both quotes, the backtick and `=` too (as Handlebars does): an escaped value cannot end
// the attribute it sits in, even an unquoted one. Browsers decode the entities in attribute
// values, so an escaped URL still works as a link.
const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;', '=': '&#61;' };

/** Text (any value; null/undefined as empty) made safe for an element body or an attribute. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`=]/g, (c) => HTML_ESCAPES[c]!);
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Text made safe for an XML 1.0 element or attribute. */
export function escapeXml(value: string): string {
  // Characters XML 1.0 forbids are dropped rather than escaped (they cannot be).
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '').replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

/** Marks a string as already-safe HTML (produced by `html` or by a renderer that escapes). */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/**
 * Tagged template: interpolations are escaped unless they are SafeHtml (or arrays of it);
 * null, undefined and false render as nothing. `html\`<td>${email}</td>\`` can never inject markup.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += renderValue(v) + strings[i + 1]!;
  });
  return new SafeHtml(out);
}

function renderValue(v: unknown): string {
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return v.map(renderValue).join('');
  if (v === null || v === undefined || v === false) return '';
  return escapeHtml(v);
}

const READER_STYLE = `body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222;line-height:1.5}
label{display:block;font-weight:600;margin:.8rem 0 .2rem}input[type=email],input[type=text]{font-size:1rem;padding:.5rem;width:100%;box-sizing:border-box}
button{font-size:1rem;padding:.6rem 1.2rem;margin-top:1rem;cursor:pointer}.error{color:#a61b1b;font-weight:600}
.hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}a{color:#326ce5}ul.issues{padding-left:1.2rem}`;

/**
 * The shell of every reader-facing page (subscribe, confirm, unsubscribe, resubscribe, the
 * archive index): no script, inline style only. `body` is trusted HTML, built with escapeHtml
 * or `html`; the title is escaped here. Not indexed unless `noindex: false` (the archive).
 * The dashboard has its own layout (src/http/admin/pages.ts): a different page, with a
 * stylesheet, a script and a signed-in navigation bar.
 */
export function readerPage(title: string, body: string, options: { noindex?: boolean; head?: string } = {}): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
${options.noindex === false ? '' : '<meta name="robots" content="noindex,nofollow">\n'}<title>${escapeHtml(title)}</title>${options.head ?? ''}
<style>${READER_STYLE}</style>
</head><body><main>${body}</main></body></html>`;
}
