import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RequestValidationError, swaggerZodTransform, zodValidatorCompiler } from './zod-schemas.js';
import { apiErrorReply } from './api-plugin.js';
import { InputError, NotFoundError, StateError } from '../../errors.js';
import { AuthError, parseBearer, roleAllows } from '../auth.js';

const compile = (schema: z.ZodType, httpPart = 'body') =>
  zodValidatorCompiler({ schema, httpPart, method: 'POST', url: '/x' } as Parameters<typeof zodValidatorCompiler>[0]) as (d: unknown) => { value?: unknown; error?: RequestValidationError };

describe('zod as the Fastify schema language', () => {
  const body = z.object({ email: z.email(), tags: z.array(z.string().max(3)).optional() });

  it('returns parsed values and names the failing field', () => {
    expect(compile(body)({ email: 'a@example.com' }).value).toEqual({ email: 'a@example.com' });
    expect(compile(body)({ email: 'nope' }).error).toMatchObject({ field: 'email', statusCode: 400 });
    expect(compile(body)({ email: 'a@example.com', tags: ['ok', 'toolong'] }).error?.field).toBe('tags.1');
    expect(compile(body)(null).error?.field).toBe('body');
    expect(compile(z.object({ a: z.string() }).default({ a: 'x' }))(null).value).toEqual({ a: 'x' });
    expect(compile(z.object({ limit: z.coerce.number().min(1) }), 'querystring')({ limit: '0' }).error?.field).toBe('limit');
  });

  it('turns zod schemas into OpenAPI schemas and hides non-API routes', () => {
    const out = swaggerZodTransform({ schema: { body } as never, url: '/api/things' });
    expect((out.schema as { body: { required: string[] } }).body.required).toEqual(['email']);
    expect((swaggerZodTransform({ schema: {} as never, url: '/admin' }).schema as { hide: boolean }).hide).toBe(true);
  });
});

describe('errors and auth helpers', () => {
  it('maps errors to status and {error, field}', () => {
    expect(apiErrorReply(new RequestValidationError('list', 'list: bad'))).toEqual({ status: 400, body: { error: 'list: bad', field: 'list' } });
    expect(apiErrorReply(new InputError('bad', 'markdown')).body.field).toBe('markdown');
    expect(apiErrorReply(new NotFoundError('campaign 3')).status).toBe(404);
    expect(apiErrorReply(new StateError('no')).status).toBe(409);
    expect(apiErrorReply(new AuthError(403, 'x')).status).toBe(403);
    expect(apiErrorReply(new Error('secret detail'))).toEqual({ status: 500, body: { error: 'internal error' } });
  });

  it('parses bearer tokens strictly and ranks roles', () => {
    expect(parseBearer('Bearer nlt_abc-_')).toBe('nlt_abc-_');
    expect(parseBearer('bearer  nlt_x ')).toBe('nlt_x');
    expect(parseBearer('Basic abc')).toBeNull();
    expect(parseBearer('Bearer a b')).toBeNull();
    expect(parseBearer(undefined)).toBeNull();
    expect(roleAllows('admin', 'editor')).toBe(true);
    expect(roleAllows('editor', 'admin')).toBe(false);
  });
});
