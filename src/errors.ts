/**
 * Typed errors. Each names what was wrong (file, line, field or address) so the
 * CLI and HTTP layers can print it as is; `code` steers control flow.
 */
export class NewsletterError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
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
