/**
 * The HTTP status of every error, decided once for the API (/api) and the dashboard
 * (/admin), so the same failure answers the same status on both.
 */
import { NewsletterError, type ErrorCode } from '../errors.js';

const STATUS: Record<ErrorCode, number> = {
  INPUT: 400,
  NOT_FOUND: 404,
  STATE: 409,
  // The database or Redis is down (restart, failover): worth trying again shortly.
  UNAVAILABLE: 503,
  // The server is not set up for this (a missing secret or address): not the caller's fault.
  CONFIG: 503,
  // SES would not take this message as it is.
  SES_REJECTED: 422,
  SES_PERMANENT: 422,
  // SES cannot take mail right now: worth trying again later.
  SES_RATE_THROTTLED: 503,
  SES_QUOTA_EXCEEDED: 503,
  SES_ACCOUNT_PAUSED: 503,
  SES_TRANSIENT: 503,
};

export function httpStatusFor(code: ErrorCode): number {
  return STATUS[code];
}

/**
 * Any thrown value: a NewsletterError by its code; an error that carries an HTTP status
 * (Fastify's own: bad JSON, body too large; auth; request validation) keeps it; anything
 * else is a 500.
 */
export function httpStatusOf(err: unknown): number {
  if (err instanceof NewsletterError) return httpStatusFor(err.code);
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}
