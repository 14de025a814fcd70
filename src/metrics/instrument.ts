/**
 * Wrappers that feed the process metrics from the send path without the send code
 * knowing about Prometheus: SES errors by code (from the SES error classification) and
 * send outcomes.
 */
import type { MailTransport } from '../campaigns/ports.js';
import { SesSendError } from '../ses/ses-error.js';
import { metrics as processMetrics, type Metrics } from './registry.js';

/** The SES error code of a send failure (`Throttling`, `ECONNRESET`…), else the error name. */
export function sesErrorCode(err: unknown): string {
  if (err instanceof SesSendError) return err.classification.code;
  const e = err as { name?: unknown; code?: unknown } | null;
  return typeof e?.code === 'string' ? e.code : typeof e?.name === 'string' ? e.name : 'other';
}

export function instrumentTransport(transport: MailTransport, metrics: Metrics = processMetrics): MailTransport {
  return {
    ...transport,
    sendRaw: async (input) => {
      try {
        return await transport.sendRaw(input);
      } catch (err) {
        metrics.recordSesError(sesErrorCode(err));
        throw err;
      }
    },
    getSendQuota: () => transport.getSendQuota(),
    classify: (err) => transport.classify(err),
  };
}

/** Count the outcome a send job resolved with. */
export function countOutcome<T extends string>(outcome: T, metrics: Metrics = processMetrics): T {
  metrics.recordSend(outcome);
  return outcome;
}
