/**
 * The public sign-up form's input, validated without IO. Problems with the input itself
 * (a malformed address) may be shown: they depend only on what was typed, never on
 * whether the address is known, so they reveal nothing about subscribers.
 */
import { emailProblem, nameProblem, normaliseEmail, parseName } from '../subscribers/subscriber-fields.js';

/**
 * Honeypot: a field real visitors never see (visually hidden, aria-hidden, not tabbable)
 * but form-filling bots do. Named like a field bots love to fill.
 */
export const HONEYPOT_FIELD = 'website';

export interface SignupFormValues {
  email: string;
  name: string;
  list: string;
}

export type SignupFormResult =
  | { kind: 'ok'; email: string; name: string | null; list: string }
  | { kind: 'bot' }
  | { kind: 'invalid'; field: 'email' | 'name' | 'list'; message: string; values: SignupFormValues };

const MAX_FIELD = 1000;

function field(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' ? s.slice(0, MAX_FIELD) : '';
}

/** `allowedLists`: SIGNUP_LISTS, the first being the default when the form names none. */
export function parseSignupForm(body: unknown, allowedLists: readonly string[]): SignupFormResult {
  const b = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  if (field(b, HONEYPOT_FIELD).trim() !== '') return { kind: 'bot' };
  const values: SignupFormValues = { email: field(b, 'email'), name: field(b, 'name'), list: field(b, 'list').trim() };
  const list = values.list === '' ? (allowedLists[0] ?? 'default') : values.list;
  if (!allowedLists.includes(list)) return { kind: 'invalid', field: 'list', message: 'This newsletter cannot be subscribed to here.', values };
  const email = normaliseEmail(values.email);
  if (email === '') return { kind: 'invalid', field: 'email', message: 'Enter your email address.', values };
  if (emailProblem(email)) return { kind: 'invalid', field: 'email', message: 'Enter a valid email address, like name@example.com.', values };
  if (nameProblem(values.name)) return { kind: 'invalid', field: 'name', message: 'Enter a shorter name without special characters.', values };
  return { kind: 'ok', email, name: parseName(values.name), list };
}
