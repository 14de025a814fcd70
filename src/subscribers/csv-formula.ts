/**
 * CSV formula injection (OWASP "CSV Injection"): a spreadsheet opening an export runs any
 * cell that starts with `=`, `+`, `-` or `@` (and tab or CR, which some strip first) as a
 * formula, so an address or name a stranger typed into the sign-up form, such as
 * `=HYPERLINK(…)`, would become a live formula on an editor's machine. Export prefixes such
 * cells with `'`, which spreadsheets read as "this is text"; import removes exactly that
 * prefix, so export → import gives back the same values.
 *
 * Round trip, also for values that really begin with `'`: export adds a `'` when the value
 * is zero or more `'` followed by a trigger character, and import removes one `'` when the
 * cell is one or more `'` followed by a trigger character. So `=x` ↔ `'=x`, `'=x` ↔ `''=x`,
 * and `'hello` (not followed by a trigger) is left alone both ways.
 */

const NEEDS_PREFIX = /^'*[=+\-@\t\r]/;
const PREFIXED = /^'+[=+\-@\t\r]/;
const QUOTE = 39; // '

/** The cell as written to an exported CSV. */
export function neutraliseFormula(value: string): string {
  return NEEDS_PREFIX.test(value) ? `'${value}` : value;
}

/** The value of a cell read from an imported CSV (the inverse of neutraliseFormula). */
export function restoreFormula(cell: string): string {
  return cell.charCodeAt(0) === QUOTE && PREFIXED.test(cell) ? cell.slice(1) : cell;
}
