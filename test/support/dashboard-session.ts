/**
 * Logging in to the dashboard over HTTP (fastify inject) as a browser would: fetch the
 * login form, echo its CSRF token with the login cookie, keep the session cookie, read
 * the session's CSRF token from a page.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

export function cookieValue(setCookie: string | string[] | undefined, name: string): string | undefined {
  const all = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  const line = all.find((c) => c.startsWith(`${name}=`));
  return line?.slice(name.length + 1).split(';')[0];
}

export async function dashboardLogin(app: FastifyInstance, token: string) {
  const form = await app.inject({ method: 'GET', url: '/admin/login' });
  const loginCsrf = cookieValue(form.headers['set-cookie'], 'nl_login_csrf')!;
  const field = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
  return app.inject({
    method: 'POST',
    url: '/admin/login',
    headers: { cookie: `nl_login_csrf=${loginCsrf}`, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: field, token }).toString(),
  });
}

export interface DashboardSession {
  cookie: string;
  csrf: string;
  get(url: string): Promise<LightMyRequestResponse>;
  /** A form POST with the session cookie and, unless `fields._csrf` says otherwise, its CSRF token. */
  post(url: string, fields?: Record<string, string>): Promise<LightMyRequestResponse>;
}

export async function dashboardSession(app: FastifyInstance, token: string): Promise<DashboardSession> {
  const res = await dashboardLogin(app, token);
  if (res.statusCode !== 303) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  const id = cookieValue(res.headers['set-cookie'], 'nl_session')!;
  const cookie = `nl_session=${id}`;
  const page = await app.inject({ method: 'GET', url: '/admin', headers: { cookie, accept: 'text/html' } });
  const csrf = /data-csrf="([^"]+)"/.exec(page.body)![1]!;
  return {
    cookie,
    csrf,
    get: (url) => app.inject({ method: 'GET', url, headers: { cookie, accept: 'text/html' } }),
    post: (url, fields = {}) =>
      app.inject({
        method: 'POST',
        url,
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
        payload: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
      }),
  };
}
