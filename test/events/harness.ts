/** An app on a fresh test store with a preloaded signing certificate and captured logs. */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { vi } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { PreloadedCertificateSource, type CertificateSource } from '../../src/events/sns-verify.js';
import { buildApp } from '../../src/http/app.js';
import type { SnsEnvelope } from '../../src/events/sns-message.js';
import type { SnsSigningIdentity } from '../../src/simulator/sns-signer.js';
import type { DialectName } from '../../src/store/db.js';
import { campaignPauser, type RecordingPauser } from '../support/campaign-pauser.js';
import { createTestStore, type TestStore } from '../support/store.js';
import { exampleTopics } from './fixtures.js';
import { TEST_UNSUBSCRIBE_SECRET, TEST_UNSUBSCRIBE_SECRET_OLD } from '../support/secrets.js';

export interface Harness {
  app: FastifyInstance;
  store: TestStore;
  config: Config;
  logs: Array<{ level: number; msg: string; [k: string]: unknown }>;
  certificateSource: CertificateSource & { getCertificate: ReturnType<typeof vi.fn> };
  confirmSubscription: ReturnType<typeof vi.fn>;
  /** The orchestrator's pause as the webhook got it, recording each call. */
  pauser: RecordingPauser;
  post(body: SnsEnvelope | string, contentType?: string): Promise<{ status: number; json: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function createHarness(dialect: DialectName, identity: SnsSigningIdentity, env: Record<string, string> = {}): Promise<Harness> {
  const store = await createTestStore(dialect);
  const config = loadConfig({
    DATABASE_URL: store.url,
    SNS_TOPIC_ARNS: exampleTopics.join(','),
    UNSUBSCRIBE_SECRET: TEST_UNSUBSCRIBE_SECRET,
    UNSUBSCRIBE_SECRET_OLD: TEST_UNSUBSCRIBE_SECRET_OLD,
    ...env,
  });
  const logs: Harness['logs'] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
      cb();
    },
  });
  const preloaded = new PreloadedCertificateSource({ [identity.certUrl]: identity.certPem });
  const certificateSource = { getCertificate: vi.fn((url: string) => preloaded.getCertificate(url)) };
  const confirmSubscription = vi.fn(async (_url: string) => {});
  const pauser = campaignPauser(store);
  const app = await buildApp({ config, store, campaignPauser: pauser, logger: pino({ level: 'info' }, sink), certificateSource, confirmSubscription });
  return {
    app,
    store,
    config,
    logs,
    certificateSource,
    confirmSubscription,
    pauser,
    async post(body, contentType = 'text/plain; charset=UTF-8') {
      const res = await app.inject({ method: 'POST', url: '/webhooks/ses', headers: { 'content-type': contentType }, payload: typeof body === 'string' ? body : JSON.stringify(body) });
      return { status: res.statusCode, json: res.body ? (JSON.parse(res.body) as Record<string, unknown>) : {} };
    },
    async close() {
      await app.close();
      await store.drop();
    },
  };
}
