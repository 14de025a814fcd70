/**
 * POST /webhooks/ses: Amazon SNS deliveries of SES events. Public endpoint: nothing
 * changes unless the message verifies (src/events/sns-verify.ts).
 *   malformed → 400; bad signature, topic, certificate (URL or subject) or a Timestamp
 *   older than SNS_MAX_AGE_S → 403;
 *   certificate unobtainable → 503 (SNS retries); database unreachable → 503, any other
 *   failure → 500 (SNS retries both); otherwise 200. A 5xx body names no internals (addresses,
 *   SQL, stack): the details go to the log.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config.js';
import { parseSesNotification } from '../../events/ses-notification.js';
import { isValidSubscribeUrl, SnsVerificationError, verifySnsMessage, type CertificateSource } from '../../events/sns-verify.js';
import { createEventApplier, type CampaignPauser } from '../../events/event-applier.js';
import type { Store } from '../../store/db.js';
import { recordProviderEvent, recordWebhookEvent } from '../../metrics/registry.js';
import { isStoreUnavailable } from '../../store/store-errors.js';

/** GETs a validated SubscribeURL; injectable so tests and offline runs never touch the network. */
export type SubscriptionConfirmer = (subscribeUrl: string) => Promise<void>;

export interface SesWebhookOptions {
  config: Pick<
    Config,
    'SNS_TOPIC_ARNS' | 'SNS_MAX_AGE_S' | 'BOUNCE_RATE_LIMIT' | 'COMPLAINT_RATE_LIMIT' | 'BREAKER_MIN_DELIVERIES' | 'TRANSIENT_BOUNCE_LIMIT' | 'TRANSIENT_BOUNCE_WINDOW_DAYS'
  >;
  store: Store;
  /** Pauses a campaign whose reputation breaker tripped: the campaign orchestrator. */
  campaignPauser: CampaignPauser;
  certificateSource: CertificateSource;
  confirmSubscription?: SubscriptionConfirmer;
  now?: () => number;
}

/** Default confirmer: a plain GET with a timeout; no redirects (they could lead off the SNS host). */
export const fetchSubscribeUrl: SubscriptionConfirmer = async (url) => {
  const res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(10_000) });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`SubscribeURL answered ${res.status}`);
};

// SNS messages are at most 256 KB; leave room for the envelope.
const BODY_LIMIT = 320 * 1024;

export const sesWebhookRoutes: FastifyPluginAsync<SesWebhookOptions> = async (app, options) => {
  const applier = createEventApplier(options.store, options.config, options.campaignPauser);
  const confirm = options.confirmSubscription ?? fetchSubscribeUrl;
  const now = options.now ?? Date.now;

  // Keep bodies raw in this scope: the signature covers the exact text. SNS sends text/plain;
  // some proxies and tools relabel it as JSON.
  if (app.hasContentTypeParser('application/json')) app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));
  if (!app.hasContentTypeParser('text/plain')) {
    app.addContentTypeParser('text/plain', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));
  }

  // SNS may post thousands of notifications a second: at the default info level, Fastify's
  // two lines per request ("incoming request", "request completed") would cost more than
  // verifying the signature. This route logs what matters itself (rejections, subscription
  // changes, the breaker; errors still reach Fastify's error log), so it only drops the
  // per-request info lines. A more verbose level (debug, trace) is left as configured.
  const logLevel = app.log.level === 'info' ? 'warn' : undefined;

  // This plugin's routes only. The caller is SNS, on the public internet: tell it "try again",
  // never what broke (a database address, SQL). Fastify's own 4xx (body too large…) keep theirs.
  app.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : isStoreUnavailable(err) ? 503 : 500;
    if (status < 500) return reply.code(status).send({ error: err.message });
    request.log.error({ err, status }, 'SNS webhook: notification not applied; SNS will retry it');
    return reply.code(status).send({ error: status === 503 ? 'unavailable' : 'internal error' });
  });

  app.post('/webhooks/ses', { bodyLimit: BODY_LIMIT, ...(logLevel ? { logLevel } : {}) }, async (request, reply) => {
    const raw = typeof request.body === 'string' ? request.body : Buffer.isBuffer(request.body) ? request.body.toString('utf8') : null;
    if (raw === null) {
      request.log.warn({ contentType: request.headers['content-type'] }, 'SNS webhook: body is not text');
      return reply.code(400).send({ error: 'malformed' });
    }
    let envelope;
    try {
      envelope = await verifySnsMessage(raw, {
        allowedTopicArns: options.config.SNS_TOPIC_ARNS,
        certificateSource: options.certificateSource,
        maxAgeMs: options.config.SNS_MAX_AGE_S * 1000,
        now,
      });
    } catch (err) {
      if (!(err instanceof SnsVerificationError)) throw err;
      const status = err.reason === 'malformed' ? 400 : err.reason === 'certificate-unavailable' ? 503 : 403;
      recordWebhookEvent('invalid_signature');
      request.log.warn({ reason: err.reason, detail: err.message, cause: err.cause instanceof Error ? err.cause.message : undefined, ip: request.ip }, 'SNS webhook: rejected');
      return reply.code(status).send({ error: status === 400 ? 'malformed' : status === 503 ? 'unavailable' : 'forbidden' });
    }

    if (envelope.Type === 'SubscriptionConfirmation') {
      if (!isValidSubscribeUrl(envelope.SubscribeURL)) {
        request.log.warn({ topic: envelope.TopicArn, ip: request.ip }, 'SNS webhook: SubscribeURL is not on an SNS host; not confirming');
        return reply.code(403).send({ error: 'forbidden' });
      }
      try {
        await confirm(envelope.SubscribeURL);
      } catch (err) {
        request.log.error({ topic: envelope.TopicArn, err: (err as Error).message }, 'SNS webhook: confirming the subscription failed');
        return reply.code(502).send({ error: 'confirmation failed' });
      }
      // Through the instance logger: the route's request logger is at warn (see logLevel above).
      app.log.info({ topic: envelope.TopicArn, reqId: request.id }, 'SNS webhook: subscription confirmed');
      return { ok: true, confirmed: true };
    }

    if (envelope.Type === 'UnsubscribeConfirmation') {
      // Someone removed our subscription: bounces and complaints stop arriving. Say so loudly.
      request.log.warn(
        { topic: envelope.TopicArn, messageId: envelope.MessageId },
        'SNS webhook: the SNS subscription for this topic was REMOVED; SES bounce/complaint events will no longer arrive until it is re-subscribed',
      );
      return { ok: true };
    }

    const events = parseSesNotification(envelope.Message, now());
    const result = await applier.apply({ snsMessageId: envelope.MessageId, message: envelope.Message, events }, now());
    for (const p of result.paused) {
      request.log.warn({ campaignId: p.campaignId, code: p.code, reason: p.reason }, 'reputation breaker paused a campaign');
    }
    if (result.applied) {
      for (const e of events) {
        recordWebhookEvent(e.type);
        recordProviderEvent(e.type, e.email);
      }
    }
    if (!result.applied) request.log.debug({ messageId: envelope.MessageId }, 'SNS webhook: replay ignored');
    return { ok: true, applied: result.applied };
  });
};
