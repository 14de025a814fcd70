/**
 * Sends one confirmation mail per sign-up request: request still pending and unexpired?
 * address not suppressed? → global rate limiter (the same Redis key as campaign sends)
 * → SendRawEmail → remember the SES message id. Throttling slows every sender down and
 * retries; a rejected address is given up; transient errors retry with backoff (BullMQ).
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { MailTransport, RateLimiter } from '../campaigns/ports.js';
import type { Database } from '../store/schema.js';
import { buildConfirmationMail } from './confirmation-mail.js';
import type { ConfirmationJobData } from './confirmation-queue.js';
import { signConfirmationToken } from './signed-links.js';

export interface ConfirmationSenderDeps {
  db: Kysely<Database>;
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
    const request = await deps.db
      .selectFrom('signup_requests as r')
      .innerJoin('lists as l', 'l.id', 'r.list_id')
      .select(['r.id', 'r.email', 'r.expires_at', 'r.mail_sent_at', 'r.confirmed_at', 'l.name as list_name'])
      .where('r.id', '=', data.r)
      .executeTakeFirst();
    if (!request || request.mail_sent_at !== null || request.confirmed_at !== null || request.expires_at <= now()) return 'skipped';
    const suppressed = await deps.db.selectFrom('suppressions').select('email').where('email', '=', request.email).executeTakeFirst();
    if (suppressed) return 'skipped';

    const token = signConfirmationToken(Number(request.id), request.expires_at, deps.secret);
    const listName = request.list_name === 'default' ? deps.listName : request.list_name;
    const mail = buildConfirmationMail({
      from: deps.from,
      to: request.email,
      listName,
      confirmUrl: confirmationUrl(deps.publicUrl, token),
      expiresAt: request.expires_at,
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
    await deps.db.updateTable('signup_requests').set({ mail_sent_at: now(), ses_message_id: messageId }).where('id', '=', request.id).execute();
    return 'sent';
  };
}
