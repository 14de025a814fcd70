/**
 * docker-compose.yml is safe as shipped (issue #12): Redis and Postgres are not published on
 * the host's interfaces (write access to Redis is admin access; Postgres had
 * newsletter/newsletter), Redis requires a password, and no password or secret is written in
 * the file: each comes from the environment as `${VAR:?message}`, so compose refuses to
 * start without it. Docker is not run here; the file is parsed and checked.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEPLOYED_WORKER_ENV } from '../../bench/worker-env.js';

const ROOT = join(import.meta.dirname, '../..');
const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');

interface Service {
  image?: string;
  command?: string[] | string;
  ports?: Array<string | { host_ip?: string; published?: string | number }>;
  environment?: Record<string, string> | string[];
}
const compose = parse(text, { merge: true }) as { services: Record<string, Service> };
const services = compose.services;

/** `${NAME:?…}`: required from the environment, compose stops with the message when unset. */
const required = (name: string) => new RegExp(`^\\$\\{${name}:\\?[^}]+\\}$`);
const env = (service: string): Record<string, string> => {
  const e = services[service]!.environment ?? {};
  return Array.isArray(e) ? Object.fromEntries(e.map((kv) => kv.split(/=(.*)/s).slice(0, 2) as [string, string])) : e;
};

describe('docker-compose.yml', () => {
  it('publishes Redis and Postgres on no host interface', () => {
    for (const name of ['redis', 'postgres']) {
      for (const port of services[name]!.ports ?? []) {
        const hostIp = typeof port === 'string' ? (port.split(':').length === 3 ? port.split(':')[0] : undefined) : port.host_ip;
        expect(hostIp, `${name} publishes ${JSON.stringify(port)}`).toBe('127.0.0.1');
      }
    }
    expect(services.redis!.ports).toBeUndefined();
    expect(services.postgres!.ports).toBeUndefined();
  });

  it('runs Redis with requirepass from REDIS_PASSWORD, and the app services connect with it', () => {
    const command = services.redis!.command as string[];
    const at = command.indexOf('--requirepass');
    expect(at).toBeGreaterThan(-1);
    expect(command[at + 1]).toMatch(required('REDIS_PASSWORD'));
    for (const name of ['app', 'worker']) {
      expect(env(name).REDIS_URL, name).toMatch(/^redis:\/\/:\$\{REDIS_PASSWORD:\?[^}]+\}@redis:6379$/);
    }
  });

  it('takes the Postgres password and UNSUBSCRIBE_SECRET from the environment, for every app service', () => {
    expect(env('postgres').POSTGRES_PASSWORD).toMatch(required('POSTGRES_PASSWORD'));
    for (const name of ['app', 'worker']) {
      expect(env(name).DATABASE_URL, name).toMatch(/^postgres:\/\/newsletter:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\/newsletter$/);
      expect(env(name).UNSUBSCRIBE_SECRET, name).toMatch(required('UNSUBSCRIBE_SECRET'));
    }
  });

  it('writes no literal password or secret anywhere', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(env(name))) {
        if (/PASSWORD|SECRET|_AUTH$/.test(key) && !/^AWS_/.test(key)) expect(String(value), `${name}.${key}`).toMatch(/^\$\{[A-Z_]+:\?[^}]+\}$/);
        if (/_URL$/.test(key) && /@/.test(String(value))) expect(String(value), `${name}.${key}`).toMatch(/:\/\/[^:@/]*:\$\{[A-Z_]+:\?[^}]+\}@/);
      }
      const command = Array.isArray(service.command) ? service.command : [];
      command.forEach((arg, i) => {
        if (/^--(requirepass|masterauth)$/.test(arg)) expect(command[i + 1], `${name} ${arg}`).toMatch(/^\$\{[A-Z_]+:\?[^}]+\}$/);
      });
    }
    expect(text).not.toMatch(/change-me|newsletter:newsletter@|POSTGRES_PASSWORD: newsletter/);
  });

  it('gives the workers the NODE_OPTIONS and MALLOC_ARENA_MAX the send bench measures (bench/worker-env.ts)', () => {
    expect(env('worker').NODE_OPTIONS).toBe(DEPLOYED_WORKER_ENV.NODE_OPTIONS);
    expect(String(env('worker').MALLOC_ARENA_MAX)).toBe(DEPLOYED_WORKER_ENV.MALLOC_ARENA_MAX);
    expect(DEPLOYED_WORKER_ENV.MALLOC_ARENA_MAX).toBe('2');
  });
});
