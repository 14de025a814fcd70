/**
 * The process's Prometheus metrics, on our own Registry (never prom-client's global one,
 * so tests and libraries cannot pollute it).
 *
 * Every label takes values from a FIXED set: anything else is folded into 'other'
 * (or '__unmatched__' / 'OTHER' for HTTP). An attacker who can send requests or craft
 * SES/SNS payloads must not be able to grow the number of time series.
 *
 * Other parts increment through the small functions below (recordSend, recordSesError,
 * recordWebhookEvent); they never touch label values directly.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { withTimeout, type FleetCounters, type FleetMetric } from './fleet-counters.js';
import { MAILBOX_PROVIDERS, providerOfEmail } from '../events/mailbox-provider.js';

/** The send processor's outcomes (workers/send-processor.ts SendOutcome). */
export const SEND_OUTCOMES = ['sent', 'skipped', 'failed', 'throttled', 'quota', 'account-paused', 'uncertain', 'not-sending', 'not-queued', 'other'] as const;
export type SendOutcome = (typeof SEND_OUTCOMES)[number];

/** SES v1 error names we tell apart; everything else is 'other'. */
export const SES_ERROR_CODES = [
  'Throttling',
  'MessageRejected',
  'MailFromDomainNotVerified',
  'ConfigurationSetDoesNotExist',
  'ConfigurationSetSendingPaused',
  'AccountSendingPaused',
  'InvalidParameterValue',
  'ServiceUnavailable',
  'InternalFailure',
  'TimeoutError',
  'NetworkingError',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'other',
] as const;
export type SesErrorCode = (typeof SES_ERROR_CODES)[number];

export const WEBHOOK_EVENT_TYPES = [
  'bounce',
  'complaint',
  'delivery',
  'send',
  'reject',
  'delivery_delay',
  'open',
  'click',
  'rendering_failure',
  'subscription',
  'invalid_signature',
  'other',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Event types counted per mailbox provider (newsletter_provider_events_total). */
export const PROVIDER_EVENT_TYPES = ['delivery', 'bounce', 'complaint', 'delivery_delay'] as const;

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export const UNMATCHED_ROUTE = '__unmatched__';

export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** Job counts per queue; injected so metrics know nothing of BullMQ. */
export type QueueDepthSource = () => Promise<Record<string, Partial<Record<QueueState, number>>>>;

function oneOf<T extends string>(allowed: readonly T[], value: string, fallback: T): T {
  return (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
}

export function normalizeMethod(method: string): string {
  return oneOf<string>(HTTP_METHODS, method.toUpperCase(), 'OTHER');
}

/** Status codes as 3-digit strings (bounded: 100..599); anything odd collapses to its class. */
export function normalizeStatus(code: number): { status: string; status_class: string } {
  if (!Number.isInteger(code) || code < 100 || code > 599) return { status: 'other', status_class: 'other' };
  return { status: String(code), status_class: `${Math.floor(code / 100)}xx` };
}

export class Metrics {
  readonly registry = new Registry();
  readonly sends: Counter<'outcome'>;
  readonly sesErrors: Counter<'code'>;
  readonly webhookEvents: Counter<'type'>;
  readonly providerEvents: Counter<'provider' | 'type'>;
  readonly httpRequests: Counter<'route' | 'method' | 'status' | 'status_class'>;
  readonly httpDuration: Histogram<'route' | 'method'>;
  readonly queueDepth: Gauge<'queue' | 'state'>;
  private queueDepthSource: QueueDepthSource | undefined;
  private fleet: FleetCounters | undefined;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    /** With fleet counters attached, a scrape reports the whole fleet's totals (every worker's sends). */
    const fromFleet = <L extends string>(metric: FleetMetric, label: L, values: readonly string[]) =>
      async function collect(this: Counter<L>) {
        if (!self.fleet) return;
        try {
          const totals = (await withTimeout(self.fleet.totals(), 1000))[metric];
          this.reset();
          for (const value of values) this.inc({ [label]: value } as Record<L, string>, totals[value] ?? 0);
        } catch {
          // Redis down or slow: keep the last values rather than failing or stalling the whole scrape.
        }
      };
    this.sends = new Counter({
      name: 'newsletter_sends_total',
      help: 'Send attempts by outcome (all workers sharing this Redis)',
      labelNames: ['outcome'],
      registers,
      collect: fromFleet('sends', 'outcome', SEND_OUTCOMES),
    });
    this.sesErrors = new Counter({
      name: 'newsletter_ses_errors_total',
      help: 'SES errors by error code, unknown codes are "other" (all workers sharing this Redis)',
      labelNames: ['code'],
      registers,
      collect: fromFleet('ses_errors', 'code', SES_ERROR_CODES),
    });
    this.webhookEvents = new Counter({
      name: 'newsletter_webhook_events_total',
      help: 'SES events received through the SNS webhook, by type',
      labelNames: ['type'],
      registers,
    });
    this.providerEvents = new Counter({
      name: 'newsletter_provider_events_total',
      help: 'Deliveries, bounces, complaints and delivery delays by mailbox provider (a fixed set; unknown domains are "other")',
      labelNames: ['provider', 'type'],
      registers,
    });
    this.httpRequests = new Counter({
      name: 'newsletter_http_requests_total',
      help: 'HTTP requests by route pattern, method and status',
      labelNames: ['route', 'method', 'status', 'status_class'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'newsletter_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern and method',
      labelNames: ['route', 'method'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'newsletter_queue_depth',
      help: 'BullMQ jobs per queue and state, read at scrape time',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        if (!self.queueDepthSource) return;
        try {
          const counts = await self.queueDepthSource();
          for (const [queue, byState] of Object.entries(counts)) {
            for (const state of QUEUE_STATES) this.set({ queue, state }, byState[state] ?? 0);
          }
        } catch {
          // Redis down: keep the last values rather than failing the whole scrape.
        }
      },
    });
    // Pre-create every fixed series at zero so dashboards see them before the first event
    // (and so the series count is stable from the first scrape).
    for (const outcome of SEND_OUTCOMES) this.sends.inc({ outcome }, 0);
    for (const code of SES_ERROR_CODES) this.sesErrors.inc({ code }, 0);
    for (const type of WEBHOOK_EVENT_TYPES) this.webhookEvents.inc({ type }, 0);
    for (const provider of MAILBOX_PROVIDERS) for (const type of PROVIDER_EVENT_TYPES) this.providerEvents.inc({ provider, type }, 0);
    if (options.defaultMetrics) this.collectProcessMetrics();
  }

  private collectingProcessMetrics = false;

  /**
   * Node's process metrics (CPU, heap, GC durations, event-loop lag), once. Started by whatever
   * serves /metrics (src/http/metrics.ts), not at import: a worker serves no /metrics, and the GC
   * observer and event-loop monitor would only cost it memory and CPU (issue #15).
   */
  collectProcessMetrics(): void {
    if (this.collectingProcessMetrics) return;
    this.collectingProcessMetrics = true;
    collectDefaultMetrics({ register: this.registry, prefix: 'newsletter_' });
  }

  /** Queue names must be the fixed set of our queues (the source decides which). */
  setQueueDepthSource(source: QueueDepthSource | undefined): void {
    this.queueDepthSource = source;
  }

  /**
   * Share send and SES-error counts through Redis (src/metrics/fleet-counters.ts): workers add
   * to them, and this process's /metrics then reports the fleet's totals. Returns a detach function.
   */
  attachFleet(fleet: FleetCounters): () => void {
    const previous = this.fleet;
    this.fleet = fleet;
    // Detaching restores what was attached before (a server and a worker in one process: the demo).
    return () => {
      if (this.fleet === fleet) this.fleet = previous;
    };
  }

  recordSend(outcome: SendOutcome | string, count = 1): void {
    const label = oneOf<string>(SEND_OUTCOMES, outcome, 'other');
    this.sends.inc({ outcome: label }, count);
    this.fleet?.add('sends', label, count);
  }

  recordSesError(code: string | undefined): void {
    const label = oneOf<string>(SES_ERROR_CODES, code ?? 'other', 'other');
    this.sesErrors.inc({ code: label });
    this.fleet?.add('ses_errors', label);
  }

  recordWebhookEvent(type: string): void {
    this.webhookEvents.inc({ type: oneOf<string>(WEBHOOK_EVENT_TYPES, type, 'other') });
  }

  /**
   * A delivery, bounce, complaint or delay by the recipient's mailbox provider: the label is
   * one of MAILBOX_PROVIDERS whatever the address (unknown domains are `other`); other types
   * are not counted here.
   */
  recordProviderEvent(type: string, email: string | null | undefined): void {
    if (!(PROVIDER_EVENT_TYPES as readonly string[]).includes(type)) return;
    this.providerEvents.inc({ provider: providerOfEmail(email), type });
  }

  /** `route` must be a route PATTERN (request.routeOptions.url) or undefined for unmatched. */
  recordHttpRequest(route: string | undefined, method: string, statusCode: number, seconds: number): void {
    const r = route ?? UNMATCHED_ROUTE;
    const m = normalizeMethod(method);
    this.httpRequests.inc({ route: r, method: m, ...normalizeStatus(statusCode) });
    this.httpDuration.observe({ route: r, method: m }, seconds);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/**
 * The process-wide instance. Workers, the SES transport and the webhook increment it;
 * /metrics renders it (and starts its process metrics: installHttpMetrics). Tests that need
 * isolation construct their own `new Metrics()`.
 */
export const metrics = new Metrics();

export const recordSend = (outcome: SendOutcome | string, count = 1): void => metrics.recordSend(outcome, count);
export const recordSesError = (code: string | undefined): void => metrics.recordSesError(code);
export const recordWebhookEvent = (type: string): void => metrics.recordWebhookEvent(type);
export const recordProviderEvent = (type: string, email: string | null | undefined): void => metrics.recordProviderEvent(type, email);
