/** The CLI end to end: `send FILE --list default --wait --json` with a worker running. */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { createHarness, type Harness } from '../support/send-harness.js';
import { ROOT } from '../support/pipeline.js';
import { EXAMPLE_ISSUE, EXAMPLE_SITE_URL } from '../support/example-issue.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('newsletter send / campaigns (CLI)', () => {
  it('sends an issue to a list and waits; stats and control commands report on it', async () => {
    h = await createHarness({ subscribers: 30, sendRate: 100, sim: { keepRaw: true }, env: { SITE_URL: EXAMPLE_SITE_URL } });
    await h.startWorker();
    const sent = await cli(['send', EXAMPLE_ISSUE, '--list', 'default', '--wait', '--json'], h.env);
    expect(sent.code, sent.stderr).toBe(0);
    const stats = JSON.parse(sent.stdout) as Record<string, unknown>;
    expect(stats).toMatchObject({ status: 'sent', total: 30, sent: 30, queued: 0, failed: 0 });
    expect(h.sim.messages).toHaveLength(30);
    const mail = await simpleParser(h.sim.messages[0]!.raw);
    expect(mail.subject).toBeTruthy();
    const head = h.sim.messages[0]!.raw.toString('utf8').split('\r\n\r\n')[0]!;
    expect(head).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(head).toMatch(/List-Unsubscribe: <https:\/\/news\.example\.com\/u\/\d+\.\d+\.[A-Za-z0-9_-]+>/);

    const id = String(stats.id);
    const show = await cli(['campaigns', 'stats', id, '--json'], h.env);
    expect(JSON.parse(show.stdout)).toMatchObject({ id: Number(id), status: 'sent', sent: 30 });
    const list = await cli(['campaigns', 'list', '--json'], h.env);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ id: Number(id), status: 'sent', total: 30 })]);
    // A finished campaign cannot be paused or cancelled.
    expect((await cli(['campaigns', 'pause', id], h.env)).code).not.toBe(0);
    expect((await cli(['campaigns', 'cancel', id], h.env)).code).toBe(1);
    const test = await cli(['campaigns', 'test', id, '--to', 'editor@example.com'], h.env);
    expect(test.code, test.stderr).toBe(0);
    expect(h.sim.messages.filter((m) => m.destinations.includes('editor@example.com'))).toHaveLength(1);
  }, 180_000);

  it('send --at schedules; a bad list or date is a usage error', async () => {
    h = await createHarness({ subscribers: 5, sendRate: 100, env: { SITE_URL: EXAMPLE_SITE_URL } });
    const at = new Date(Date.now() + 3600_000).toISOString();
    const scheduled = await cli(['send', EXAMPLE_ISSUE, '--list', 'default', '--at', at, '--json'], h.env);
    expect(scheduled.code, scheduled.stderr).toBe(0);
    expect(JSON.parse(scheduled.stdout)).toMatchObject({ status: 'scheduled', sent: 0 });
    expect((await cli(['send', EXAMPLE_ISSUE, '--list', 'nope'], h.env)).code).not.toBe(0);
    expect((await cli(['send', EXAMPLE_ISSUE, '--at', 'tomorrow-ish'], h.env)).code).toBe(2);
  }, 180_000);

  it('send --canary P% --json starts with a first wave (shown in the stats object); a bad share is a usage error', async () => {
    h = await createHarness({ subscribers: 5, sendRate: 100, env: { SITE_URL: EXAMPLE_SITE_URL } });
    const sent = await cli(['send', EXAMPLE_ISSUE, '--list', 'default', '--canary', '20%', '--json'], h.env);
    expect(sent.code, sent.stderr).toBe(0);
    const stats = JSON.parse(sent.stdout) as Record<string, unknown>;
    expect(stats).toMatchObject({ id: expect.any(Number), status: 'sending', total: 5, canary: { percent: 20, size: 1, phase: 'selecting' } });
    const show = await cli(['campaigns', 'show', String(stats.id)], h.env);
    expect(show.stdout).toMatch(/canary 20% \(1 recipient\(s\)\): choosing the wave/);
    expect(show.stdout).toMatch(/started .*canary 20% = 1 first/);
    const bad = await cli(['send', EXAMPLE_ISSUE, '--canary', 'lots'], h.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--canary');
  }, 180_000);
});
