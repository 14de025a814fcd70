/**
 * GET /metrics and the HTTP request counter. Installed on the ROOT instance (not an
 * encapsulated plugin) so the onResponse hook sees every request, including 404s.
 *
 * The route label is Fastify's route PATTERN (`/api/campaigns/:id`), never the raw URL;
 * unmatched requests are '__unmatched__'. Method and status come from fixed sets.
 *
 * Who may read it: with METRICS_TOKEN set, only `Authorization: Bearer <METRICS_TOKEN>`
 * (compared in constant time); with METRICS_PORT set, /metrics is served by its own small
 * server on that port (buildMetricsApp) and not on the main one, so it can be left to a
 * private interface or network. Both may be combined.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { parseBearer } from './auth.js';
import { metrics as processMetrics, type Metrics } from '../metrics/registry.js';

export interface HttpMetricsOptions {
  metrics?: Metrics;
  /** METRICS_TOKEN: the bearer token /metrics requires; unset = open. */
  token?: string;
  /** False when /metrics is served elsewhere (METRICS_PORT): only the request counter here. */
  route?: boolean;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Whether a request presents `expected` as its bearer token; constant time in the token. */
export function presentsBearer(request: FastifyRequest, expected: string): boolean {
  const presented = parseBearer(request.headers.authorization);
  // Hash both so the comparison is over equal lengths whatever was presented.
  return presented !== null && timingSafeEqual(digest(presented), digest(expected));
}

function metricsHandler(metrics: Metrics, token: string | undefined) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (token !== undefined && !presentsBearer(request, token)) {
      return reply.code(401).header('WWW-Authenticate', 'Bearer realm="metrics"').send({ error: 'metrics need Authorization: Bearer <METRICS_TOKEN>' });
    }
    const { contentType, body } = await metrics.render();
    return reply.type(contentType).send(body);
  };
}

/** The separate /metrics server for METRICS_PORT (nothing else answers on it). */
export function buildMetricsApp(metrics: Metrics, options: { token?: string; logger?: boolean } = {}): FastifyInstance {
  const app = Fastify({ logger: options.logger ?? false, requestIdHeader: false });
  app.get('/metrics', metricsHandler(metrics, options.token));
  return app;
}

export function installHttpMetrics(app: FastifyInstance, options: HttpMetricsOptions = {}): Metrics {
  const metrics = options.metrics ?? processMetrics;
  // This process serves the process-wide registry: include Node's process metrics from now on.
  if (metrics === processMetrics) metrics.collectProcessMetrics();

  app.addHook('onResponse', async (request, reply) => {
    // routeOptions.url is the pattern of the matched route; undefined when nothing matched.
    const matched = request.is404 ? undefined : request.routeOptions.url;
    metrics.recordHttpRequest(matched, request.method, reply.statusCode, reply.elapsedTime / 1000);
  });

  if (options.route !== false) app.get('/metrics', { schema: { hide: true } }, metricsHandler(metrics, options.token));

  return metrics;
}
