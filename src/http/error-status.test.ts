/**
 * The API and the dashboard answer the same HTTP status for the same error: both plugins
 * mounted on one app whose campaigns port throws the error under test.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ERROR_CODES, InputError, NewsletterError, NotFoundError, StateError, UnavailableError, type ErrorCode } from '../errors.js';
import { SesSendError, type SesErrorKind } from '../ses/ses-error.js';
import { adminPlugin, SESSION_COOKIE, type AdminDeps } from './admin/admin-plugin.js';
import { apiPlugin } from './api/api-plugin.js';
import type { CampaignsPort, SubscribersPort } from './api/ports.js';
import type { Principal } from './auth.js';
import { httpStatusFor } from './error-status.js';

const sesKinds: Record<SesErrorKind, true> = { 'rate-throttled': true, 'quota-exceeded': true, rejected: true, 'account-paused': true, transient: true, permanent: true };
const sesError = (kind: SesErrorKind) => new SesSendError({ kind, code: 'X', message: 'ses said no', maybeSent: false });

/** One error of every class, and so of every code. */
const ERRORS: NewsletterError[] = [
  new ConfigError('FROM_ADDRESS is not set'),
  new InputError('bad list', 'list'),
  new NotFoundError('campaign 7'),
  new StateError('campaign 7 is sent'),
  new UnavailableError('the database is unreachable'),
  ...(Object.keys(sesKinds) as SesErrorKind[]).map(sesError),
];

const principal: Principal = { tokenId: 1, name: 'ops', role: 'admin' };
let thrown: unknown;
let app: FastifyInstance;

beforeAll(async () => {
  const fail = async (): Promise<never> => {
    throw thrown;
  };
  const campaigns = { get: fail, stats: fail } as unknown as CampaignsPort;
  const sessions = {
    get: async (id?: string) => (id === 'sid' ? { principal, csrf: 'c', createdAt: 0, expiresAt: Date.now() + 60_000 } : null),
    destroy: async () => undefined,
  } as unknown as AdminDeps['sessions'];
  const deps = { campaigns, subscribers: {} as SubscribersPort, verifyToken: async () => principal };
  app = Fastify();
  await app.register(apiPlugin, { prefix: '/api', ...deps });
  await app.register(adminPlugin, { ...deps, sessions, queries: {} as AdminDeps['queries'] });
  await app.ready();
});
afterAll(() => app?.close());

async function statuses(err: unknown): Promise<{ api: number; admin: number }> {
  thrown = err;
  const api = await app.inject({ method: 'GET', url: '/api/campaigns/7', headers: { authorization: 'Bearer nlt_x' } });
  const admin = await app.inject({ method: 'GET', url: '/admin/campaigns/7/live.json', headers: { cookie: `${SESSION_COOKIE}=sid` } });
  return { api: api.statusCode, admin: admin.statusCode };
}

describe('error status', () => {
  it('covers every error code', () => {
    expect(new Set(ERRORS.map((e) => e.code))).toEqual(new Set<ErrorCode>(ERROR_CODES));
  });

  it.each(ERRORS.map((e) => [e.code, e] as const))('%s: the API and the dashboard answer the same status, the one httpStatusFor names', async (code, err) => {
    const { api, admin } = await statuses(err);
    expect(api).toBe(httpStatusFor(code));
    expect(admin).toBe(api);
  });

  it('not found is 404, a refused transition 409, bad input 400, missing setup 503', () => {
    expect([httpStatusFor('NOT_FOUND'), httpStatusFor('STATE'), httpStatusFor('INPUT'), httpStatusFor('CONFIG')]).toEqual([404, 409, 400, 503]);
  });

  it('an unexpected error is a 500 on both', async () => {
    expect(await statuses(new Error('boom'))).toEqual({ api: 500, admin: 500 });
  });
});
