/**
 * The SES v1 Query API's XML answers, byte-shaped like Amazon's, so the real
 * @aws-sdk/client-ses (AwsQueryProtocol) parses them: `<Action>Response` wrapping
 * `<Action>Result` plus `ResponseMetadata/RequestId`; errors as `ErrorResponse`.
 * Pure: values in, strings out.
 */
import { escapeXml } from '../html/html.js';

export const SES_XML_NAMESPACE = 'http://ses.amazonaws.com/doc/2010-12-01/';

/** A successful `<Action>Response`; `resultXml` is the inner XML of `<Action>Result` (may be empty). */
export function queryResponseXml(action: string, resultXml: string, requestId: string): string {
  const result = resultXml === '' ? `<${action}Result/>` : `<${action}Result>\n    ${resultXml}\n  </${action}Result>`;
  return (
    `<${action}Response xmlns="${SES_XML_NAMESPACE}">\n  ${result}\n` +
    `  <ResponseMetadata>\n    <RequestId>${escapeXml(requestId)}</RequestId>\n  </ResponseMetadata>\n</${action}Response>\n`
  );
}

export function sendRawEmailResultXml(messageId: string): string {
  return `<MessageId>${escapeXml(messageId)}</MessageId>`;
}

/** SES prints the quota numbers as doubles ("200.0"). */
function double(n: number): string {
  return Number.isInteger(n) ? `${n}.0` : String(n);
}

export function getSendQuotaResultXml(q: { max24HourSend: number; maxSendRate: number; sentLast24Hours: number }): string {
  return (
    `<SentLast24Hours>${double(q.sentLast24Hours)}</SentLast24Hours>\n    ` +
    `<Max24HourSend>${double(q.max24HourSend)}</Max24HourSend>\n    ` +
    `<MaxSendRate>${double(q.maxSendRate)}</MaxSendRate>`
  );
}

export interface SesQueryError {
  /** HTTP status: 400 for every SES client error, 5xx for server faults. */
  status: number;
  type: 'Sender' | 'Receiver';
  code: string;
  message: string;
}

export function errorResponseXml(error: SesQueryError, requestId: string): string {
  return (
    `<ErrorResponse xmlns="${SES_XML_NAMESPACE}">\n  <Error>\n    <Type>${error.type}</Type>\n` +
    `    <Code>${escapeXml(error.code)}</Code>\n    <Message>${escapeXml(error.message)}</Message>\n  </Error>\n` +
    `  <RequestId>${escapeXml(requestId)}</RequestId>\n</ErrorResponse>\n`
  );
}

/** The errors SES answers that the simulator can produce, with SES's own wording. */
export const SES_ERRORS = {
  rateExceeded: (): SesQueryError => ({ status: 400, type: 'Sender', code: 'Throttling', message: 'Maximum sending rate exceeded.' }),
  quotaExceeded: (): SesQueryError => ({ status: 400, type: 'Sender', code: 'Throttling', message: 'Daily message quota exceeded.' }),
  accountPaused: (): SesQueryError => ({
    status: 400,
    type: 'Sender',
    code: 'AccountSendingPausedException',
    message: 'Email sending is disabled for your entire Amazon SES account.',
  }),
  messageRejected: (message: string): SesQueryError => ({ status: 400, type: 'Sender', code: 'MessageRejected', message }),
  invalidParameter: (message: string): SesQueryError => ({ status: 400, type: 'Sender', code: 'InvalidParameterValue', message }),
  configurationSetDoesNotExist: (name: string): SesQueryError => ({
    status: 400,
    type: 'Sender',
    code: 'ConfigurationSetDoesNotExist',
    message: `Configuration set <${name}> does not exist.`,
  }),
  invalidAction: (action: string): SesQueryError => ({
    status: 400,
    type: 'Sender',
    code: 'InvalidAction',
    message: `The action ${action} is not valid for this web service.`,
  }),
  serverFault: (status: number): SesQueryError => ({
    status,
    type: 'Receiver',
    code: status === 503 ? 'ServiceUnavailable' : 'InternalFailure',
    message:
      status === 503
        ? 'Service is unable to handle request.'
        : 'The request processing has failed because of an unknown error, exception or failure.',
  }),
} as const;
