/**
 * The Fastify app. Route groups are plugins in their own folders (webhooks/, api/,
 * admin/, pages) and receive their dependencies explicitly through AppDeps.
 */
import { TRAP_LINK_PATH } from '../events/engagement-class.js';
import { readerPage } from '../html/html.js';
import { sendHtml } from './pages/page-html.js';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/db.js';
import { createCertificateSource, type CertificateSource } from '../events/sns-verify.js';
import type { CampaignPauser } from '../events/event-applier.js';
import { sesWebhookRoutes, type SubscriptionConfirmer } from './webhooks/ses-webhook.js';
import { unsubscribeRoutes } from './unsubscribe/unsubscribe-routes.js';
import { archiveRoutes } from './pages/archive-routes.js';
import { signupRoutes, type SignupRoutesOptions } from './pages/signup-routes.js';
import { RouteLogController } from './request-log.js';

export interface AppDeps {
  config: Config;
  store: Store;
  logger: Logger;
  /** Pauses a campaign whose reputation breaker tripped (the SES webhook): the campaign orchestrator. */
  campaignPauser: CampaignPauser;
  /** SNS signing certificates; default: SNS_CERTS, then a cached HTTPS fetch. */
  certificateSource?: CertificateSource;
  /** GETs an SNS SubscribeURL; default: fetch. */
  confirmSubscription?: SubscriptionConfirmer;
  /** Public sign-up and confirmation pages (need Redis and the confirmation queue); off when unset. */
  signup?: Pick<SignupRoutesOptions, 'redis' | 'enqueueConfirmation' | 'now'>;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Body limits: SNS messages are at most 256 KB; CSV uploads get their own limit.
    bodyLimit: 1024 * 1024,
    trustProxy: trustProxySetting(deps.config.TRUST_PROXY),
    requestIdHeader: false,
    // Request log lines carry the route pattern, never the URL (tokens, addresses, queries).
    logController: new RouteLogController(),
  });

  // SNS posts JSON as text/plain; keep the raw text so the webhook can parse and verify it.
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.get('/healthz', async () => ({ ok: true }));
  // The hidden footer link (engagement-class.ts): a real page, so a scanner that follows it
  // gets an answer; SES reports the click, and the click is what marks the machine.
  app.get(TRAP_LINK_PATH, { schema: { hide: true } }, async (_request, reply) =>
    sendHtml(reply, 200, readerPage('Nothing here', '<h1>Nothing to see</h1><p>This link is hidden in our emails so that we can tell link scanners from readers. Nothing was changed.</p>'), { noindex: true }),
  );

  await app.register(sesWebhookRoutes, {
    config: deps.config,
    store: deps.store,
    campaignPauser: deps.campaignPauser,
    certificateSource: deps.certificateSource ?? createCertificateSource(deps.config),
    confirmSubscription: deps.confirmSubscription,
  });
  await app.register(unsubscribeRoutes, { config: deps.config, store: deps.store, signup: deps.signup });
  await app.register(archiveRoutes, { config: deps.config, store: deps.store });
  if (deps.signup) await app.register(signupRoutes, { config: deps.config, store: deps.store, ...deps.signup });

  return app;
}

/** Fastify's trustProxy from TRUST_PROXY: unset → false; "true"; a hop count; or addresses/CIDRs. */
export function trustProxySetting(value: string | undefined): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (!value || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return (_address, hop) => hop < hops;
  }
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}
