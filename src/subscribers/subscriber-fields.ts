/**
 * Pure validation and normalisation of subscriber fields. Addresses are stored
 * trimmed and lower-cased so uniqueness is case-insensitive on both dialects
 * without functional indexes. Names end up in From/To-style headers and HTML, so
 * control characters are refused here and escaped again where they are used.
 */
import { InputError } from '../errors.js';

const MAX_EMAIL = 254;
const MAX_LOCAL = 64;
const MAX_NAME = 200;

// Local part: printable, no whitespace, no characters that need quoting; dots not leading,
// trailing or doubled. Domain: LDH labels with at least one dot (no bare hosts).
const LOCAL = /^[^\s@"(),:;<>[\]\\.\p{Cc}]+(?:\.[^\s@"(),:;<>[\]\\.\p{Cc}]+)*$/u;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function normaliseEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

/** Why an (already normalised) address is not acceptable, or undefined if it is. */
export function emailProblem(email: string): string | undefined {
  if (email === '') return 'email is empty';
  if (email.length > MAX_EMAIL) return `address is longer than ${MAX_EMAIL} characters`;
  const at = email.lastIndexOf('@');
  if (at <= 0 || at === email.length - 1) return `"${printable(email)}" is not an email address`;
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (local.length > MAX_LOCAL || !LOCAL.test(local)) return `"${printable(email)}" has an invalid local part`;
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || /^\d+$/.test(labels.at(-1)!)) {
    return `"${printable(email)}" has an invalid domain`;
  }
  return undefined;
}

/** Normalise and validate; throws InputError naming the address. */
export function parseEmail(raw: string, location?: string): string {
  const email = normaliseEmail(raw);
  const problem = emailProblem(email);
  if (problem) throw new InputError(problem, location);
  return email;
}

/**
 * Names: whitespace runs (including newlines from quoted CSV fields) collapse to one
 * space; other control characters are refused. Empty means no name.
 */
export function nameProblem(raw: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(raw)) return 'name contains control characters';
  if (normaliseNameUnchecked(raw).length > MAX_NAME) return `name is longer than ${MAX_NAME} characters`;
  return undefined;
}

export function parseName(raw: string | null | undefined, location?: string): string | null {
  if (raw === null || raw === undefined) return null;
  const problem = nameProblem(raw);
  if (problem) throw new InputError(problem, location);
  const name = normaliseNameUnchecked(raw);
  return name === '' ? null : name;
}

function normaliseNameUnchecked(raw: string): string {
  return raw.replace(/\s+/g, ' ').trim();
}

/** Addresses quoted in messages: control characters shown escaped so a report stays one line. */
function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  const shown = s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return shown.length > 80 ? `${shown.slice(0, 77)}...` : shown;
}
