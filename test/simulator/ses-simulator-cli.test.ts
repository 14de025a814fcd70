/**
 * `newsletter ses-simulator` as its own process (how benches with separate worker
 * processes and users run it): prints its endpoint, enforces --rate, reports stats,
 * writes the signing certificate for SNS_CERTS, exits cleanly on SIGTERM.
 */
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SesTransport } from '../../src/ses/ses-transport.js';
import { startSimulatorProcess } from '../support/ses-simulator-process.js';

describe('newsletter ses-simulator', () => {
  it('runs as a process with the given rate and exits 0 on SIGTERM', async () => {
    const certsOut = join(mkdtempSync(join(tmpdir(), 'sesim-')), 'certs.json');
    const { child, url, output } = await startSimulatorProcess(['--rate', '2', '--notify-url', 'http://127.0.0.1:9/unused', '--certs-out', certsOut]);
    const transport = new SesTransport({ region: 'us-east-1', endpoint: url });
    try {
      const raw = Buffer.from('From: e@example.com\r\nTo: r@example.com\r\n\r\nx');
      const results = await Promise.allSettled([1, 2, 3].map((i) => transport.sendRaw({ raw, from: 'e@example.com', to: `r${i}@example.com` })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
      expect(await transport.getSendQuota({ timeoutMs: 2000 })).toMatchObject({ maxSendRate: 2, sentLast24Hours: 2 });
      const stats = (await (await fetch(`${url}/_simulator/stats`)).json()) as Record<string, number>;
      expect(stats).toMatchObject({ accepted: 2, throttledRate: 1, worstSecond: 2 });
      const certs = JSON.parse(readFileSync(certsOut, 'utf8')) as Record<string, string>;
      expect(Object.values(certs)[0]).toMatch(/^-----BEGIN CERTIFICATE-----/);
    } finally {
      transport.destroy();
      child.kill('SIGTERM');
    }
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(output()).toMatch(/accepted 2 messages, throttled 1, worst second 2/);
  });
});
