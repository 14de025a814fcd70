/**
 * Sends one confirmation mail per sign-up request: request still pending and unexpired?
 * address not suppressed? → global rate limiter (the same Redis key as campaign sends)
 * → SendRawEmail → remember the SES message id. Throttling slows every sender down and
 * retries; a rejected address is given up; transient errors retry with backoff (BullMQ).
 */
import type { Logger } from 'pino';
import type { MailTransport, RateLimiter } from '../campaigns/ports.js';
import type { SignupRequestsRepository } from '../store/signup-requests-repository.js';
import type { SuppressionsRepository } from '../store/suppressions-repository.js';
import { buildConfirmationMail } from './confirmation-mail.js';
import type { ConfirmationJobData } from './confirmation-queue.js';
import { signConfirmationToken } from './signed-links.js';

export interface ConfirmationSenderDeps {
  repos: {
    signupRequests: Pick<SignupRequestsRepository, 'find' | 'markMailSent'>;
    suppressions: Pick<SuppressionsRepository, 'isSuppressed'>;
  };
  transport: MailTransport;
  limiter: RateLimiter;
  /** FROM_ADDRESS */
  from: string;
  /** PUBLIC_URL, no trailing slash. */
  publicUrl: string;
  /** Signing secret (the first of signupSecrets(config)). */
  secret: string;
  /** LIST_NAME: the name readers know the `default` list by. */
  listName: string;
  now?: () => number;
  logger?: Logger;
}

export type ConfirmationOutcome = 'sent' | 'skipped' | 'rejected';

export function confirmationUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/confirm/${token}`;
}

export function createConfirmationSender(deps: ConfirmationSenderDeps) {
  const now = deps.now ?? Date.now;
  return async function sendConfirmation(data: ConfirmationJobData): Promise<ConfirmationOutcome> {
    const { signupRequests, suppressions } = deps.repos;
    const request = await signupRequests.find(data.r);
    if (!request || request.mailSentAt !== null || request.confirmedAt !== null || request.expiresAt <= now()) return 'skipped';
    if (await suppressions.isSuppressed(request.email)) return 'skipped';

    const token = signConfirmationToken(request.id, request.expiresAt, deps.secret);
    const listName = request.listName === 'default' ? deps.listName : request.listName;
    const mail = buildConfirmationMail({
      from: deps.from,
      to: request.email,
      listName,
      confirmUrl: confirmationUrl(deps.publicUrl, token),
      expiresAt: request.expiresAt,
      now: now(),
    });
    await deps.limiter.acquire();
    let messageId: string;
    try {
      ({ messageId } = await deps.transport.sendRaw({ raw: mail.raw, from: deps.from, to: request.email, tags: { type: 'signup-confirmation' } }));
    } catch (err) {
      const { kind } = deps.transport.classify(err);
      if (kind === 'rate-throttled') await deps.limiter.reportThrottled();
      if (kind === 'rejected' || kind === 'permanent') {
        deps.logger?.warn({ requestId: data.r, err: String(err) }, 'confirmation mail rejected');
        return 'rejected';
      }
      throw err; // BullMQ retries with backoff (throttling, quota, transient)
    }
    await signupRequests.markMailSent(request.id, messageId, now());
    return 'sent';
  };
}
