/**
 * Typed errors. Each names what was wrong (file, line, field or address) so the
 * CLI and HTTP layers can print it as is; `code` steers control flow. The codes are a
 * closed set: the HTTP status of each is decided once (src/http/error-status.ts).
 */

/** A failed SES call (src/ses/ses-error.ts): one code per SesErrorKind. */
export const SES_ERROR_CODES = ['SES_RATE_THROTTLED', 'SES_QUOTA_EXCEEDED', 'SES_REJECTED', 'SES_ACCOUNT_PAUSED', 'SES_PERMANENT', 'SES_TRANSIENT'] as const;
export type SesErrorCode = (typeof SES_ERROR_CODES)[number];

export const ERROR_CODES = ['CONFIG', 'INPUT', 'NOT_FOUND', 'STATE', 'UNAVAILABLE', ...SES_ERROR_CODES] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class NewsletterError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Environment configuration is missing or malformed. */
export class ConfigError extends NewsletterError {
  constructor(message: string) {
    super('CONFIG', message);
  }
}

/** A link-signing secret is missing or guessable (src/secrets/signing-secrets.ts); names the variable. */
export class WeakSecretError extends ConfigError {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(message);
    this.variable = variable;
  }
}

/** Input from a user (file, CSV row, request body) is invalid. */
export class InputError extends NewsletterError {
  readonly location?: string;
  constructor(message: string, location?: string) {
    super('INPUT', location ? `${location}: ${message}` : message);
    this.location = location;
  }
}

/** A requested record does not exist. */
export class NotFoundError extends NewsletterError {
  constructor(what: string) {
    super('NOT_FOUND', `${what} not found`);
  }
}

/** A state transition was refused because the record is not in an allowed state. */
export class StateError extends NewsletterError {
  constructor(message: string) {
    super('STATE', message);
  }
}

/** A service this needs (the database, Redis) cannot be reached right now; trying again later may work. */
export class UnavailableError extends NewsletterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNAVAILABLE', message, options);
  }
}

/**
 * A send was not started because its ledger claim's lease (claim + SES_REQUEST_TIMEOUT_S) had
 * passed: the row may already be requeued and sent by another worker. Nothing reached SES.
 */

export class ClaimExpiredError extends StateError {
  constructor(what: string, deadline: number, now: number) {
    super(`${what}: claim lease ended ${now - deadline} ms ago; not sent`);
  }
}
