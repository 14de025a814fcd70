/**
 * Why a campaign is held: a closed set of codes that code compares, stored in
 * `campaigns.paused_reason`, with an optional note (`campaigns.paused_note`, e.g. the
 * breaker's measured rate). The text people read is derived here, never stored. Pure.
 */
export const PAUSE_CODES = ['editor', 'quota', 'account-paused', 'breaker', 'provider-breaker', 'schedule-missed', 'canary'] as const;
export type PauseCode = (typeof PAUSE_CODES)[number];

export interface PauseReason {
  code: PauseCode;
  /** Detail for people (the breaker's rate, a quota message); never compared in code. */
  note?: string | null;
}

const TEXT: Record<PauseCode, string> = {
  editor: 'paused by an editor',
  quota: 'SES daily quota exceeded; resumes by itself when quota frees',
  'account-paused': 'SES paused sending for the account',
  breaker: 'reputation breaker',
  'provider-breaker': 'reputation breaker for one mailbox provider',
  'schedule-missed': 'scheduled time passed while the system was down; resume to send now',
  // The note names what the wave measured (rate, or the failed messages); resume sends the rest.
  canary: 'canary wave failed its check; the rest is held until an editor resumes',
};

export function isPauseCode(value: unknown): value is PauseCode {
  return typeof value === 'string' && (PAUSE_CODES as readonly string[]).includes(value);
}

/** The sentence shown in the CLI, API and dashboard for a stored code and note. */
export function describePause(code: string | null, note?: string | null): string | null {
  if (code === null) return null;
  const base = isPauseCode(code) ? TEXT[code] : code;
  return note ? `${base}: ${note}` : base;
}
