/**
 * What Fastify's own request log lines say about a request: the method and the route
 * pattern (`/u/:token`, `/api/subscribers/:email`), never the raw URL. Paths carry
 * unsubscribe, confirmation and resubscribe tokens and subscribers' addresses; query
 * strings carry anything. A request no route matched is logged without its path.
 */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/** The route pattern a request matched, or null (no route: a 404). */
export function routePattern(request: FastifyRequest): string | null {
  // routeOptions.url is the pattern the router matched; unset for the 404 handler.
  return request.routeOptions?.url ?? null;
}

// Top-level fields, not `req`/`res`: Fastify's serializers for those would add the URL back.
const requestFields = (request: FastifyRequest) => ({ method: request.method, route: routePattern(request) });

export class RouteLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    request.log.info(requestFields(request), 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const fields = { ...requestFields(request), statusCode: reply.statusCode, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...fields, err: error }, 'request errored');
    else reply.log.info(fields, 'request completed');
  }

  override defaultErrorLog(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const fields = { ...requestFields(request), statusCode: reply.statusCode, err: error };
    if (reply.statusCode >= 500) reply.log.error(fields, error?.message);
    else reply.log.info(fields, error?.message);
  }

  override routeNotFound(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    request.log.info(requestFields(request), 'route not found');
  }

  override writeHeadError(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    reply.log.warn({ ...requestFields(request), statusCode: reply.statusCode, err: error }, error?.message);
  }
}
