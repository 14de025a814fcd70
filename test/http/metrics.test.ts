/**
 * /metrics: fixed label sets. 10,000 requests to random paths with random user agents,
 * methods and tokens must not add a single time series; route labels are patterns.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { recordSesError, recordWebhookEvent } from '../../src/metrics/registry.js';
import { buildMetricsApp } from '../../src/http/metrics.js';
import { createSurfaceHarness, SAMPLE_MARKDOWN, waitFor, type SurfaceHarness } from '../support/surface-harness.js';

let h: SurfaceHarness;
beforeAll(async () => {
  h = await createSurfaceHarness();
});
afterAll(async () => {
  await h?.close();
});

function seriesOf(text: string): string[] {
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.slice(0, l.lastIndexOf(' ')));
}

const rnd = (n = 8) => randomBytes(n).toString('base64url');
const PREFIXES = ['/', '/api/', '/api/campaigns/', '/api/subscribers/', '/admin/', '/admin/campaigns/', '/admin/queues/', '/u/', '/webhooks/', '/metrics/', '/healthz/'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];

interface Shape {
  prefix: string;
  method: string;
  auth: boolean;
  segments: number;
  query: boolean;
}

function requestFor(shape: Shape) {
  const path = shape.prefix + Array.from({ length: shape.segments }, () => rnd(6)).join('/') + (shape.query ? `?q=${rnd()}` : '');
  const headers: Record<string, string> = { 'user-agent': `Mozilla/5.0 (${rnd(12)}) bot-${rnd(4)}` };
  if (shape.auth) headers.authorization = `Bearer nlt_${rnd(32)}`;
  return { method: shape.method as 'GET', url: path, headers };
}

/** Every shape of request the random generator can produce (the warm-up). */
function allShapes(): Shape[] {
  const out: Shape[] = [];
  for (const prefix of PREFIXES)
    for (const method of METHODS)
      for (const auth of [false, true])
        for (const segments of [1, 2, 3]) out.push({ prefix, method, auth, segments, query: segments === 2 });
  return out;
}

function randomShape(): Shape {
  const pick = <T,>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)]!;
  return { prefix: pick(PREFIXES), method: pick(METHODS), auth: Math.random() < 0.5, segments: pick([1, 2, 3]), query: Math.random() < 0.3 };
}

describe('/metrics', () => {
  it('10,000 random requests leave the number of series unchanged', async () => {
    // Warm up: one pass of every kind of request, so each (pattern, method, status) that
    // can exist does exist.
    for (const shape of allShapes()) await h.app.inject(requestFor(shape));
    await h.app.inject({ method: 'GET', url: '/metrics' });
    const before = seriesOf((await h.app.inject({ method: 'GET', url: '/metrics' })).body);

    const seen: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const req = requestFor(randomShape());
      if (i % 1000 === 0) seen.push(req.url.split('/').at(-1)!.split('?')[0]!, req.headers['user-agent']!);
      await h.app.inject(req);
    }
    const text = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
    const after = seriesOf(text);
    expect(after.filter((s) => !before.includes(s))).toEqual([]);
    expect(after.length).toBe(before.length);
    expect(after.sort()).toEqual(before.sort());
    // No label carries a raw path segment or user agent.
    for (const s of seen) expect(text).not.toContain(s);
    // The requests were counted, under patterns.
    const unmatched = text.split('\n').filter((l) => l.startsWith('newsletter_http_requests_total{route="__unmatched__"'));
    const total = unmatched.reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    expect(total).toBeGreaterThan(5000);
    expect(text).toMatch(/newsletter_http_requests_total\{route="\/api\/campaigns\/:id",method="GET",status="401",status_class="4xx"\} \d+/);
  }, 120_000);

  it('fixed sets for SES error codes and webhook event types; queue depth from BullMQ', async () => {
    // The process-wide registry (what workers and the webhook increment).
    const { metrics } = await import('../../src/metrics/registry.js');
    const count = async () => seriesOf(await metrics.registry.metrics()).filter((s) => !s.startsWith('nodejs_') && !s.startsWith('newsletter_process') && !s.startsWith('newsletter_nodejs')).length;
    const before = await count();
    for (let i = 0; i < 200; i++) {
      recordSesError(`Weird${rnd()}`);
      recordWebhookEvent(`type-${rnd()}`);
    }
    recordSesError('Throttling');
    expect(await count()).toBe(before);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/newsletter_ses_errors_total\{code="other"\} 200/);
    expect(text).toMatch(/newsletter_ses_errors_total\{code="Throttling"\} 1/);
    expect(text).toMatch(/newsletter_webhook_events_total\{type="other"\} 200/);

    const probe = await h.ctx.send.queues.send.add('s', { c: 999_999, s: 1 }, { delay: 60_000, jobId: 'c999999-s1' });
    const served = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(served).toMatch(/newsletter_queue_depth\{queue="send",state="delayed"\} 1/);
    expect(served).toMatch(/newsletter_queue_depth\{queue="fanout",state="waiting"\} 0/);
    await probe.remove();
  });

  it('the provider label comes from the fixed set: random recipient domains through the real webhook add no series', async () => {
    const { metrics } = await import('../../src/metrics/registry.js');
    const providerSeries = (text: string) => seriesOf(text).filter((s) => s.startsWith('newsletter_provider_events_total{'));
    // The webhook counts in this process's registry, which `newsletter serve` renders at
    // /metrics (the harness's app renders a registry of its own): read it through the real
    // /metrics handler on that registry (the METRICS_PORT listener).
    const metricsApp = buildMetricsApp(metrics);
    onTestFinished(() => metricsApp.close());
    const served = async () => {
      const res = await metricsApp.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      return res.body;
    };
    const before = providerSeries(await served());
    // Every (provider, type) exists from the start: 7 providers × 4 types.
    expect(before.length).toBe(28);
    const now = () => new Date().toISOString();
    const domains: string[] = [];
    const post = async (eventType: string, email: string, extra: Record<string, unknown>) => {
      const mail = { messageId: `metrics-${rnd()}`, destination: [email], timestamp: now(), tags: {} };
      expect(await h.postSesEvent({ eventType, mail, ...extra })).toBe(200);
    };
    for (let i = 0; i < 60; i++) {
      const domain = `${rnd(6).toLowerCase()}.${['com', 'org', 'co.uk', 'example'][i % 4]}`;
      domains.push(domain);
      const email = `${rnd(5)}@${domain}`;
      if (i % 3 === 0) await post('Delivery', email, { delivery: { timestamp: now(), recipients: [email], smtpResponse: '250 ok' } });
      if (i % 3 === 1) await post('Bounce', email, { bounce: { bounceType: 'Transient', bounceSubType: 'General', timestamp: now(), bouncedRecipients: [{ emailAddress: email, status: '4.2.2', diagnosticCode: `smtp; 452 4.2.2 ${domain} full` }] } });
      if (i % 3 === 2) await post('DeliveryDelay', email, { deliveryDelay: { timestamp: now(), delayType: 'MailboxFull', delayedRecipients: [{ emailAddress: email, status: '4.2.2' }] } });
    }
    const microsoftDelaysBefore = Number((await served()).match(/newsletter_provider_events_total\{provider="microsoft",type="delivery_delay"\} (\d+)/)?.[1] ?? 0);
    await post('DeliveryDelay', 'someone@hotmail.co.uk', { deliveryDelay: { timestamp: now(), delayType: 'TransientCommunicationFailure', delayedRecipients: [{ emailAddress: 'someone@hotmail.co.uk', status: '4.7.0' }] } });
    const text = await served();
    const after = providerSeries(text);
    expect(after.sort()).toEqual(before.sort());
    for (const d of domains) expect(text).not.toContain(d);
    expect(text).toMatch(/newsletter_provider_events_total\{provider="other",type="bounce"\} [1-9]\d*/);
    expect(Number(text.match(/newsletter_provider_events_total\{provider="microsoft",type="delivery_delay"\} (\d+)/)?.[1])).toBe(microsoftDelaysBefore + 1);
    for (const s of after) expect(s).toMatch(/^newsletter_provider_events_total\{provider="(gmail|microsoft|yahoo|apple|proton|gmx|other)",type="(delivery|bounce|complaint|delivery_delay)"\}$/);
  });

  it('counts sends by outcome, SES errors by code and webhook events by type from a real send', async () => {
    const { metrics } = await import('../../src/metrics/registry.js');
    const lineValue = (text: string, name: string, label: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${name}{${label}}`));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    // Sends and SES errors happen in the worker; the server's /metrics reports them (through Redis).
    const served = async () => (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
    const sesErrors = (text: string) => text.split('\n').filter((l) => l.startsWith('newsletter_ses_errors_total{')).reduce((s, l) => s + Number(l.split(' ').at(-1) || 0), 0);
    // Webhook events are counted by this process's registry, which the real server renders.
    const value = async (name: string, label: string) => lineValue(await metrics.registry.metrics(), name, label);
    const before = {
      sent: lineValue(await served(), 'newsletter_sends_total', 'outcome="sent"'),
      bounce: await value('newsletter_webhook_events_total', 'type="bounce"'),
      delivery: await value('newsletter_webhook_events_total', 'type="delivery"'),
      errors: sesErrors(await served()),
    };
    await h.startWorker();
    for (const email of ['success+m1@simulator.amazonses.com', 'success+m2@simulator.amazonses.com', 'bounce+m3@simulator.amazonses.com']) {
      expect((await h.api('POST', '/api/subscribers', { token: h.tokens.editor, body: { email, list: 'metrics' } })).status).toBe(201);
    }
    const created = await h.api('POST', '/api/campaigns', { token: h.tokens.editor, body: { markdown: SAMPLE_MARKDOWN, list: 'metrics' } });
    const id = (created.json.campaign as { id: number }).id;
    h.sim.failNext(1, 500); // one SES server fault: retried, counted by code
    await h.api('POST', `/api/campaigns/${id}/send`, { token: h.tokens.editor, body: {} });
    await waitFor('sent and settled', async () => {
      const s = (await h.api('GET', `/api/campaigns/${id}/stats`, { token: h.tokens.editor })).json;
      return s.status === 'sent' && s.delivered === 2 && s.bounced === 1;
    });
    // The worker flushes its counts to Redis once a second.
    await waitFor('worker counts reach the server', async () => lineValue(await served(), 'newsletter_sends_total', 'outcome="sent"') === before.sent + 3);
    expect(sesErrors(await served())).toBe(before.errors + 1);
    expect(await value('newsletter_webhook_events_total', 'type="bounce"')).toBe(before.bounce + 1);
    expect(await value('newsletter_webhook_events_total', 'type="delivery"')).toBe(before.delivery + 2);
  });
});
