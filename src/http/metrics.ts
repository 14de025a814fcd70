/**
 * GET /metrics and the HTTP request counter. Installed on the ROOT instance (not an
 * encapsulated plugin) so the onResponse hook sees every request, including 404s.
 *
 * The route label is Fastify's route PATTERN (`/api/campaigns/:id`), never the raw URL;
 * unmatched requests are '__unmatched__'. Method and status come from fixed sets.
 */
import type { FastifyInstance } from 'fastify';
import { metrics as processMetrics, type Metrics } from '../metrics/registry.js';

export interface HttpMetricsOptions {
  metrics?: Metrics;
}

export function installHttpMetrics(app: FastifyInstance, options: HttpMetricsOptions = {}): Metrics {
  const metrics = options.metrics ?? processMetrics;

  app.addHook('onResponse', async (request, reply) => {
    // routeOptions.url is the pattern of the matched route; undefined when nothing matched.
    const matched = request.is404 ? undefined : request.routeOptions.url;
    metrics.recordHttpRequest(matched, request.method, reply.statusCode, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const { contentType, body } = await metrics.render();
    return reply.type(contentType).send(body);
  });

  return metrics;
}
