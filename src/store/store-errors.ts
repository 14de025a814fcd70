/**
 * Which database errors mean "the database cannot be reached right now" (restart, failover,
 * network, too many connections, a locked or full SQLite file) rather than "this query is
 * wrong": callers retry the first kind, answer 503, or say so in one line; the second kind
 * is a bug to report as is.
 */

/** Node socket error codes of a lost or refused connection. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Postgres SQLSTATEs: class 08 (connection exception), 57P01 admin shutdown, 57P02 crash
 * shutdown, 57P03 cannot connect now (starting up or shutting down), 53300 too many connections.
 */
const PG_CODES = new Set(['57P01', '57P02', '57P03', '53300']);

/** better-sqlite3 codes for a file that is locked past busy_timeout, unreadable or full. */
const SQLITE_CODES = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN', 'SQLITE_IOERR', 'SQLITE_FULL']);

export function isStoreUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (SOCKET_CODES.has(code) || PG_CODES.has(code) || code.startsWith('08')) return true;
      if (SQLITE_CODES.has(code) || code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_BUSY')) return true;
    }
    // pg's own errors for a connection that ended without a SQLSTATE.
    if (/^Connection terminated|^Client has encountered a connection error|timeout exceeded when trying to connect/.test(e.message)) return true;
    // AggregateError (a refused connection to every address of "localhost").
    if (e instanceof AggregateError && e.errors.some((inner) => isStoreUnavailable(inner))) return true;
  }
  return false;
}

/** The one-line reason, without stack or SQL. */
export function storeErrorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors[0] instanceof Error) return storeErrorText(err.errors[0]);
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const message = err.message || (typeof code === 'string' ? code : err.name);
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}
