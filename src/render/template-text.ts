/**
 * Editor-written content goes into Handlebars SOURCE (the compiled issue is stored as
 * templates), so it must never be read as Handlebars. Every `{`, `}` and `\` becomes a data
 * lookup that prints the character back: `a {{b}}` → `a {{lb}}{{lb}}b{{rb}}{{rb}}`. With no
 * brace or backslash left, no mustache can start, close early (`{{lb}}}` would be read as a
 * triple-stash end) or be escaped away.
 */
export function escapeTemplateText(text: string): string {
  return text.replace(/[{}\\]/g, (c) => (c === '{' ? '{{lb}}' : c === '}' ? '{{rb}}' : '{{bs}}'));
}

/** The data every compiled template expects besides the recipient fields. */
export const TEMPLATE_CONSTANTS = Object.freeze({ lb: '{', rb: '}', bs: '\\' });
