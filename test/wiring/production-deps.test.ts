/**
 * A production install (`npm ci --omit=dev`, as in the Docker image's runtime) must run every
 * command but the demo: no module outside the demo may load a dev dependency. The child
 * processes below refuse to resolve, from the project's own modules, any package listed in
 * devDependencies.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
const dir = mkdtempSync(join(tmpdir(), 'prod-deps-'));
const hooks = join(dir, 'block-dev-deps.mjs');
writeFileSync(
  hooks,
  `import { registerHooks } from 'node:module';
const blocked = new Set(${JSON.stringify(Object.keys(pkg.devDependencies))});
registerHooks({
  resolve(specifier, context, next) {
    const parts = specifier.split('/');
    const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
    // Only the project's own imports: a package that also depends on one of these gets its own copy.
    const fromProject = !context.parentURL || !context.parentURL.includes('/node_modules/');
    if (fromProject && blocked.has(name)) throw new Error('dev dependency loaded outside the demo: ' + specifier);
    return next(specifier, context);
  },
});
`,
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--import', hooks, 'bin/newsletter.js', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'error', SITE_URL: 'https://news.example.com' } });
}

describe('production dependencies', () => {
  it('the CLI loads, checks and renders an issue without any dev dependency', () => {
    const help = cli(['--help']);
    expect(help.stderr).not.toContain('dev dependency');
    expect(help.status, help.stderr).toBe(0);
    const check = cli(['check', 'examples/2026-11-22-harbor-weekly.md']);
    expect(check.status, check.stderr).toBe(0);
  });

  it('the guard itself works: loading a dev dependency fails', () => {
    const r = spawnSync(process.execPath, ['--import', hooks, '-e', "await import('aws-ses-v2-local')", '--input-type=module'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('dev dependency loaded outside the demo: aws-ses-v2-local');
  });
});
