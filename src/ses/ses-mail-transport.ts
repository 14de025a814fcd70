/** The SES transport as the send pipeline's MailTransport port (sends, quota, error classes). */
import type { MailTransport } from '../campaigns/ports.js';
import { classifySesError } from './ses-error.js';
import type { SesTransport } from './ses-transport.js';

export function sesMailTransport(ses: SesTransport): MailTransport {
  return {
    sendRaw: (input) =>
      ses.sendRaw(
        { raw: input.raw, from: input.from, to: input.to, tags: input.tags },
        { ...(input.deadline === undefined ? {} : { deadline: input.deadline }), ...(input.startAt ? { startAt: input.startAt } : {}) },
      ),
    getSendQuota: () => ses.getSendQuota({ timeoutMs: 2000 }),
    classify: (err) => {
      const c = classifySesError(err);
      return c.httpStatus === undefined ? { kind: c.kind, maybeSent: c.maybeSent } : { kind: c.kind, maybeSent: c.maybeSent, httpStatus: c.httpStatus };
    },
  };
}
