/**
 * The worker process loads only what it sends with (issue #15: its start-up RSS counts against the
 * 100k campaign's memory budget). Imports the worker entry (workers/index.ts) and its production
 * deps in a fresh Node process, opens a SQLite store as the worker does, and lists the CommonJS
 * packages that got loaded: the other dialect's driver, the HTTP server, the dashboard and the
 * issue compiler must not be among them. Also: the worker serves no /metrics, so it collects no
 * Node process metrics (GC observer, event-loop monitor); a server does.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'nl-worker-imports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Packages (node_modules/NAME) and project files a worker must not load. */
const HEAVY_PACKAGES = ['pg', 'pg-pool', 'pg-protocol', 'fastify', '@fastify/static', '@bull-board/api', '@bull-board/fastify', 'mjml', 'juice', 'playwright', 'playwright-core'];

function loadedAfter(script: string): { packages: string[]; project: string[]; extra?: unknown } {
  const program = `
    const { pathToFileURL } = await import('node:url');
    const { createRequire, registerHooks } = await import('node:module');
    const project = [];
    registerHooks({ load(url, context, next) { if (url.startsWith(pathToFileURL(root).href + '/') && !url.includes('/node_modules/')) project.push(url.slice(pathToFileURL(root).href.length + 1)); return next(url, context); } });
    const root = ${JSON.stringify(ROOT)};
    const load = (p) => import(pathToFileURL(root + '/' + p).href);
    ${script}
    const cjs = Object.keys(createRequire(import.meta.url).cache);
    const packages = [...new Set(cjs.map((f) => f.match(/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//)?.[1]).filter(Boolean))];
    process.stdout.write(JSON.stringify({ packages, project, extra: globalThis.extra }));
    process.exit(0);`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(out) as { packages: string[]; project: string[]; extra?: unknown };
}

describe('the worker import graph', () => {
  it('after importing the worker entry and its default deps, no heavy package is loaded', () => {
    const { packages, project } = loadedAfter(`await load('workers/index.ts'); await load('workers/default-deps.ts');`);
    // The check sees the project's own modules too: the send path is among them, the HTTP/admin code and the compiler are not.
    expect(project).toContain('workers/send-processor.ts');
    expect(project.filter((f) => f.startsWith('src/http/') || f === 'src/render/compile-issue.ts' || f === 'src/render/templates.ts')).toEqual([]);
    // The check itself sees CommonJS packages loaded from ESM (the SES SDK is one):
    expect(packages).toContain('@aws-sdk/client-ses');
    for (const heavy of HEAVY_PACKAGES) expect(packages, heavy).not.toContain(heavy);
    // Neither driver before a store is opened.
    expect(packages).not.toContain('better-sqlite3');
  });

  it('opening a SQLite store loads better-sqlite3 and not pg', () => {
    const url = 'sqlite:' + join(dir, 'w.db');
    const { packages } = loadedAfter(`await load('workers/index.ts'); const { openStore } = await load('src/store/db.ts'); const s = await openStore(${JSON.stringify(url)}); await s.destroy();`);
    expect(packages).toContain('better-sqlite3');
    expect(packages).not.toContain('pg');
  });

  it('a worker collects no Node process metrics; a process that serves /metrics does', async () => {
    const processMetric = 'newsletter_process_cpu_user_seconds_total';
    const { extra } = loadedAfter(`await load('workers/index.ts'); const { metrics } = await load('src/metrics/registry.ts'); globalThis.extra = metrics.registry.getSingleMetric('${processMetric}') !== undefined;`);
    expect(extra).toBe(false);
    const { default: Fastify } = await import('fastify');
    const { metrics } = await import('../../src/metrics/registry.js');
    const { installHttpMetrics } = await import('../../src/http/metrics.js');
    expect(metrics.registry.getSingleMetric(processMetric)).toBeUndefined();
    const app = Fastify();
    installHttpMetrics(app);
    expect(metrics.registry.getSingleMetric(processMetric)).toBeDefined();
    await app.close();
  });
});
