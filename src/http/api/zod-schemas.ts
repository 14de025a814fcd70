/**
 * Zod as Fastify's schema language: route schemas (body, querystring, params, response)
 * are zod schemas. One definition validates requests, and @fastify/swagger turns the same
 * schemas into the OpenAPI document through z.toJSONSchema, so the document cannot drift
 * from what the server enforces.
 */
import type { FastifyInstance, FastifySchema, FastifySchemaCompiler } from 'fastify';
import { z } from 'zod';

/** A request part failed validation; `field` is a dotted path (`list`, `body`, `attributes.city`). */
export class RequestValidationError extends Error {
  readonly statusCode = 400;
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'RequestValidationError';
    this.field = field;
  }
}

const isZod = (value: unknown): value is z.ZodType => value instanceof z.ZodType;

function describeIssue(issue: z.core.$ZodIssue, part: string): RequestValidationError {
  const path = issue.path.map(String).join('.');
  const field = path || part;
  return new RequestValidationError(field, `${field}: ${issue.message}`);
}

export const zodValidatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  if (!isZod(schema)) throw new Error(`route schema for ${httpPart} must be a zod schema`);
  const part = httpPart === 'querystring' ? 'query' : (httpPart ?? 'body');
  return (data: unknown) => {
    // A missing body arrives as null: let schemas with a default accept it, otherwise
    // report the body itself rather than a zod type error.
    const result = schema.safeParse(data ?? undefined);
    if (result.success) return { value: result.data };
    if ((data === null || data === undefined) && part === 'body') {
      return { error: new RequestValidationError('body', 'body: a JSON object is required') };
    }
    return { error: describeIssue(result.error.issues[0]!, part) };
  };
};

/** Installs zod validation and plain JSON serialization on an instance (and its children). */
export function useZodSchemas(app: FastifyInstance): void {
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
}

const JSON_SCHEMA_PARTS = ['body', 'querystring', 'params', 'headers'] as const;

function toOpenApiSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

/**
 * @fastify/swagger `transform`: zod → JSON Schema for every part and response; routes
 * outside `/api` (dashboard, webhooks, metrics) are hidden from the API document.
 */
export function swaggerZodTransform({ schema, url }: { schema: FastifySchema; url: string }): {
  schema: FastifySchema;
  url: string;
} {
  if (!url.startsWith('/api/') || url === '/api/openapi.json') return { schema: { ...(schema ?? {}), hide: true } as FastifySchema, url };
  if (!schema) return { schema, url };
  const out: Record<string, unknown> = { ...schema };
  for (const part of JSON_SCHEMA_PARTS) {
    const s = (schema as Record<string, unknown>)[part];
    if (isZod(s)) out[part] = toOpenApiSchema(s, 'input');
  }
  const response = (schema as Record<string, unknown>).response as Record<string, unknown> | undefined;
  if (response) {
    const converted: Record<string, unknown> = {};
    for (const [code, s] of Object.entries(response)) converted[code] = isZod(s) ? toOpenApiSchema(s, 'output') : s;
    out.response = converted;
  }
  return { schema: out as FastifySchema, url };
}
