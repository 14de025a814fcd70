/**
 * Request log lines carry route patterns, never raw URLs (issue #12): real requests through
 * the whole server, its pino output captured. Unsubscribe and confirmation tokens, a
 * subscriber's address in /api/subscribers/:email and query strings must not appear.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signConfirmationToken } from '../../src/signup/signed-links.js';
import { signUnsubscribeToken } from '../../src/unsubscribe/token.js';
import { createSurfaceHarness, type SurfaceHarness } from '../support/surface-harness.js';
import { TEST_UNSUBSCRIBE_SECRET } from '../support/secrets.js';

const lines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  },
});

let h: SurfaceHarness;
beforeAll(async () => {
  h = await createSurfaceHarness({ logger: pino({ level: 'info' }, sink) });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('request logs', () => {
  it('name the route pattern, not the token, the address or the query string', async () => {
    const unsubscribe = signUnsubscribeToken({ subscriberId: 4242, listId: 1 }, TEST_UNSUBSCRIBE_SECRET);
    const confirm = signConfirmationToken(777, Date.now() + 3600_000, TEST_UNSUBSCRIBE_SECRET);
    const secrets = [unsubscribe, confirm, 'reader.secret@example.com', encodeURIComponent('reader.secret@example.com'), 'x=y', 'private-query'];

    await fetch(`${h.base}/u/${unsubscribe}?utm=private-query`);
    await fetch(`${h.base}/u/${unsubscribe}`, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    await fetch(`${h.base}/confirm/${confirm}`);
    await h.api('GET', `/api/subscribers/${encodeURIComponent('reader.secret@example.com')}?x=y`, { token: h.tokens.admin });
    await h.api('GET', `/api/subscribers/${encodeURIComponent('reader.secret@example.com')}?x=y`);
    await fetch(`${h.base}/no/such/path/reader.secret@example.com?x=y`);

    const requestLines = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => 'route' in l || /request|route/.test(String(l.msg)));
    const routes = requestLines.map((l) => l.route);
    expect(routes).toEqual(expect.arrayContaining(['/u/:token', '/confirm/:token', '/api/subscribers/:email', null]));
    expect(requestLines.filter((l) => l.msg === 'request completed').length).toBeGreaterThanOrEqual(6);
    const all = lines.join('\n');
    for (const s of secrets) expect(all, s).not.toContain(s);
    expect(all).not.toContain('"url"');
  }, 30_000);
});
