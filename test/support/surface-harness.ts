/**
 * A whole server for surface tests: fresh SQLite DB, unique BullMQ prefix on the real
 * Redis, the strict SES simulator (its SNS notifications go to our real webhook, signed
 * with its certificate), the real app context and buildServer, listening on port 0.
 * Workers are started on demand (in this process).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAppContext, type AppContext } from '../../src/app-context.js';
import { loadConfig, type Config } from '../../src/config.js';
import { buildServer } from '../../src/http/server.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { createSnsSigningIdentity, signedNotification } from '../../src/simulator/sns-signer.js';
import { startSesSimulator, type SesSimulator, type SesSimulatorOptions } from '../../src/simulator/ses-simulator.js';
import { startWorkerRuntime, type WorkerRuntime } from '../../workers/runtime.js';
import { createDefaultDeps } from '../../workers/default-deps.js';
import type { FastifyInstance } from 'fastify';
import { createTestStore, type TestStore } from './store.js';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from './redis.js';
import { TEST_UNSUBSCRIBE_SECRET } from './secrets.js';

export const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:surfaces-test';

export interface SurfaceHarness {
  app: FastifyInstance;
  base: string;
  ctx: AppContext;
  config: Config;
  env: Record<string, string>;
  sim: SesSimulator;
  metrics: Metrics;
  store: TestStore;
  tokens: { admin: string; editor: string };
  startWorker(): Promise<WorkerRuntime>;
  /** POST an SES event-publishing payload to /webhooks/ses, signed like SNS; returns the status. */
  postSesEvent(payload: Record<string, unknown>): Promise<number>;
  /** fetch against the server with an optional bearer token. */
  api(method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; json: Record<string, unknown>; text: string }>;
  close(): Promise<void>;
}

export async function createSurfaceHarness(
  options: { sendRate?: number; sim?: SesSimulatorOptions; env?: Record<string, string>; logger?: Logger } = {},
): Promise<SurfaceHarness> {
  const store = await createTestStore('sqlite');
  const prefix = uniquePrefix('surfaces');
  const dir = mkdtempSync(join(tmpdir(), 'surfaces-'));
  const identity = await createSnsSigningIdentity();
  const sim = await startSesSimulator({
    maxSendRate: 100_000,
    max24HourSend: 10_000_000,
    topicArn: TOPIC_ARN,
    sendEvents: true,
    signingIdentity: identity,
    ...options.sim,
  });
  const certs = join(dir, 'sns-certs.json');
  writeFileSync(certs, JSON.stringify({ [identity.certUrl]: identity.certPem }));
  const env: Record<string, string> = {
    DATABASE_URL: store.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    SES_ENDPOINT: sim.url,
    SEND_RATE: String(options.sendRate ?? 200),
    FROM_ADDRESS: 'Surfaces Test <news@example.com>',
    UNSUBSCRIBE_SECRET: TEST_UNSUBSCRIBE_SECRET,
    PUBLIC_URL: 'http://127.0.0.1:3000',
    SITE_URL: 'https://news.example.org',
    SNS_TOPIC_ARNS: TOPIC_ARN,
    SNS_CERTS: certs,
    WORKER_CONCURRENCY: '20',
    // Requests come from loopback as if through a local reverse proxy (X-Forwarded-Proto).
    TRUST_PROXY: 'loopback',
    LOG_LEVEL: 'warn',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    ...options.env,
  };
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  const config = loadConfig(env);
  const metrics = new Metrics();
  const logger = options.logger ?? createLogger('warn', 'surfaces-test');
  const ctx = await openAppContext(config, { logger, metrics });
  const app = await buildServer(ctx.serverDeps());
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const base = address.replace('[::1]', '127.0.0.1');
  // The simulator posts SES events (signed) to our real webhook once it exists.
  await sim.setNotifyUrl(`${base}/webhooks/ses`);

  const admin = await ctx.tokens.create('admin', 'test admin');
  const editor = await ctx.tokens.create('editor', 'test editor');
  const runtimes: WorkerRuntime[] = [];

  return {
    app,
    base,
    ctx,
    config,
    env,
    sim,
    metrics,
    store,
    tokens: { admin: admin.token, editor: editor.token },
    async startWorker() {
      const rt = await startWorkerRuntime({ config, logger, createDeps: createDefaultDeps, sweepIntervalMs: 250 });
      runtimes.push(rt);
      return rt;
    },
    async postSesEvent(payload) {
      const envelope = signedNotification(payload, identity, { topicArn: TOPIC_ARN });
      const res = await fetch(`${base}/webhooks/ses`, { method: 'POST', headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: JSON.stringify(envelope) });
      await res.arrayBuffer();
      return res.status;
    },
    async api(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
      let body: string | undefined;
      if (o.body !== undefined) {
        headers['content-type'] ??= 'application/json';
        body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      }
      const res = await fetch(`${base}${path}`, { method, headers, body });
      const text = await res.text();
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // not JSON (preview HTML)
      }
      return { status: res.status, json, text };
    },
    async close() {
      await Promise.all(runtimes.map((r) => r.close().catch(() => undefined)));
      await app.close();
      await ctx.close();
      await sim.close();
      await store.drop();
      await deletePrefix(prefix).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { sleep, waitFor } from './wait.js';

/** A small but real issue (front matter + sections), our own text. */
export const SAMPLE_MARKDOWN = `---
layout: post
title: "Harbor Notes: Week 48"
date: 2026-11-26 09:00:00 -0000
slug: 2026-11-26-week-48
---

## Developer News

The [planning document](https://docs.example.org/plan) is open for comments until Friday.

## Release Schedule

**Next Deadline: Docs Freeze, December 1**

Version 3.1 is in [code freeze](https://github.com/example/harbor/milestone/31).
`;
