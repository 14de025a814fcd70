/**
 * What an SES failure means for the send pipeline. Pure: looks only at the
 * error object the AWS SDK (or Node's network stack) threw.
 *
 * Quirks this relies on (checked against @aws-sdk/client-ses 3.x):
 * - SES throttling has no modeled exception: the SDK throws a generic
 *   ServiceException with `name === 'Throttling'`; only the message tells a
 *   rate limit ("Maximum sending rate exceeded.") from a spent day
 *   ("Daily message quota exceeded.").
 * - Every SES client error is HTTP 400 with `$retryable` undefined, so status
 *   codes and `$retryable` cannot steer retries; names can.
 * - Network failures carry a Node `code` (ECONNRESET…) and no `$metadata`.
 */
import { NewsletterError, type SesErrorCode } from '../errors.js';

export type SesErrorKind =
  /** Over the per-second rate: slow the whole queue, retry the message. */
  | 'rate-throttled'
  /** 24-hour quota spent: pause the campaign until quota frees. */
  | 'quota-exceeded'
  /** SES refused this message (MessageRejected): fail the row, no retry. */
  | 'rejected'
  /** SES will not send for the account at all (sending paused, credentials refused): pause everything, alert. */
  | 'account-paused'
  /** Network trouble or an SES server fault: retry with backoff. */
  | 'transient'
  /** The request itself is wrong for this message or setup: fail the row, no retry. */
  | 'permanent';

export interface SesErrorClassification {
  kind: SesErrorKind;
  /** SES error code (`Throttling`, `MessageRejected`…) or Node error code (`ECONNRESET`), else the error name. */
  code: string;
  message: string;
  /**
   * True when SES may have accepted the message although we saw an error
   * (timeout or connection lost after the request was written). The pipeline
   * must then treat the send as uncertain, not as not-sent.
   */
  maybeSent: boolean;
  /** HTTP status of SES's answer, when there was one. */
  httpStatus?: number;
}

const REJECTED = new Set(['MessageRejected']);
const PERMANENT = new Set([
  'MailFromDomainNotVerified',
  'MailFromDomainNotVerifiedException',
  'ConfigurationSetDoesNotExist',
  'ConfigurationSetDoesNotExistException',
  'InvalidParameterValue',
  'InvalidParameterCombination',
  'MissingParameter',
  'ValidationError',
  'InvalidAction',
  'FromEmailAddressNotVerifiedException',
]);
const ACCOUNT = new Set([
  'AccountSendingPausedException',
  'ConfigurationSetSendingPausedException',
  // Credentials or permissions refused: every send would fail the same way, so
  // stop everything and alert rather than failing each row.
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
  'AccessDenied',
  'AccessDeniedException',
  'ExpiredToken',
  'OptInRequired',
]);
const SERVER = new Set(['InternalFailure', 'ServiceUnavailable', 'InternalError', 'ServiceUnavailableException', 'RequestTimeout']);
/** Node/undici codes for connections that were never made: the request did not reach SES. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
const NETWORK = new Set([
  ...NOT_CONNECTED,
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNABORTED',
  'ESOCKETTIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  cause?: unknown;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function classifySesError(err: unknown): SesErrorClassification {
  if (err instanceof SesSendError) return err.classification;
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as ErrorLike;
  const cause = (typeof e.cause === 'object' && e.cause !== null ? e.cause : {}) as ErrorLike;
  const name = str(e.name) ?? 'Error';
  const sesCode = str(e.Code);
  const nodeCode = str(e.code) ?? str(cause.code);
  const message = str(e.message) ?? name;
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const base = (kind: SesErrorKind, code: string, maybeSent = false): SesErrorClassification => {
    const c: SesErrorClassification = { kind, code, message, maybeSent };
    if (status !== undefined) c.httpStatus = status;
    return c;
  };

  // An answer from SES (it has an error code): the name or Code says what happened.
  const code = sesCode ?? (status !== undefined ? name : undefined);
  if (code !== undefined) {
    if (code === 'Throttling' || code === 'ThrottlingException') {
      return base(/daily message quota/i.test(message) ? 'quota-exceeded' : 'rate-throttled', code);
    }
    if (REJECTED.has(code)) return base('rejected', code);
    if (ACCOUNT.has(code)) return base('account-paused', code);
    if (PERMANENT.has(code)) return base('permanent', code);
    // A 5xx may come after SES accepted the message (fault while answering).
    if (SERVER.has(code) || (status !== undefined && status >= 500) || e.$fault === 'server') return base('transient', code, true);
    if (status !== undefined && status >= 400) return base('permanent', code);
  }

  // No answer from SES: network or timeout.
  if (nodeCode !== undefined && NETWORK.has(nodeCode)) return base('transient', nodeCode, !NOT_CONNECTED.has(nodeCode));
  if (name === 'TimeoutError' || name === 'AbortError' || /timed? ?out/i.test(message)) return base('transient', nodeCode ?? name, true);
  // Anything else without an SES answer (a proxy's HTML page, a parse error) is
  // most likely transport trouble: retry rather than drop the subscriber.
  return base('transient', nodeCode ?? name, true);
}

/** A failed SES call, classified; `kind` steers the send job's control flow. */
const ERROR_CODE: Record<SesErrorKind, SesErrorCode> = {
  'rate-throttled': 'SES_RATE_THROTTLED',
  'quota-exceeded': 'SES_QUOTA_EXCEEDED',
  rejected: 'SES_REJECTED',
  'account-paused': 'SES_ACCOUNT_PAUSED',
  transient: 'SES_TRANSIENT',
  permanent: 'SES_PERMANENT',
};

export class SesSendError extends NewsletterError {
  readonly classification: SesErrorClassification;
  constructor(classification: SesErrorClassification, options?: { cause?: unknown }) {
    super(ERROR_CODE[classification.kind], `SES ${classification.code}: ${classification.message}`, options);
    this.classification = classification;
  }
  get kind(): SesErrorKind {
    return this.classification.kind;
  }
  /** Worth retrying this message later (rate, quota, transient). */
  get retryable(): boolean {
    const k = this.classification.kind;
    return k === 'rate-throttled' || k === 'quota-exceeded' || k === 'transient';
  }
}
