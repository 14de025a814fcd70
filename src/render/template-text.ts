/**
 * Editor-written content goes into Handlebars SOURCE (the compiled issue is stored as
 * templates), so it must never be read as Handlebars. Every `{` and `\` becomes a data
 * lookup that prints the character back: `a {{b}}` → `a {{lb}}{{lb}}b}}`. A lone `}}` is
 * plain content to Handlebars, and with no `{` or `\` left no mustache can start.
 */
export function escapeTemplateText(text: string): string {
  return text.replace(/[{\\]/g, (c) => (c === '{' ? '{{lb}}' : '{{bs}}'));
}

/** The data every compiled template expects besides the recipient fields. */
export const TEMPLATE_CONSTANTS = Object.freeze({ lb: '{', bs: '\\' });
