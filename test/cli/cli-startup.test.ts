/**
 * The CLI loads what the command it runs needs, not every command's modules: `check` in an
 * editor's CI is the renderer alone (no database, queue or HTTP server), a subscriber command is
 * the store without the renderer or the server. The full help lists every command and loads
 * none of their machinery (each command file imports its heavy modules when it runs).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const RECORDER = join(ROOT, 'test', 'support', 'record-loaded-modules.mjs');
const EXAMPLE_ISSUE = join(ROOT, 'examples', '2026-11-22-harbor-weekly.md');
const dir = mkdtempSync(join(tmpdir(), 'cli-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** Every module the process resolved (URLs). */
  loaded: string[];
}

let runs = 0;
function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const out = join(dir, `loaded-${runs++}.txt`);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--import', RECORDER, MAIN, ...args],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: `sqlite:${join(dir, 'cli.db')}`, ...env, LOADED_MODULES_OUT: out } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr, loaded: readFileSync(out, 'utf8').split('\n') });
      },
    );
  });
}

const loads = (run: Run, part: string): boolean => run.loaded.some((url) => url.includes(part));

// The recorder uses module.registerHooks (Node 22.15+); package.json allows older 22s.
describe.skipIf(typeof nodeModule.registerHooks !== 'function')('CLI start-up', () => {
  it('check loads the renderer and nothing of the store, the queue or the HTTP server', async () => {
    const run = await cli(['check', EXAMPLE_ISSUE]);
    expect(run.stdout + run.stderr).toContain('2026-11-22-harbor-weekly.md');
    expect(loads(run, '/src/render/compile-issue.ts')).toBe(true);
    for (const part of ['/src/store/db.ts', '/src/store/repositories.ts', '/src/composition-root.ts', '/src/http/', '/node_modules/bullmq/', '/node_modules/kysely/', '/node_modules/fastify/', '/node_modules/@aws-sdk/client-ses/']) {
      expect(loads(run, part), part).toBe(false);
    }
  });

  it('a subscriber command loads the store, not the renderer or the HTTP server', async () => {
    const run = await cli(['subscribers', 'show', 'nobody@example.com']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('subscriber nobody@example.com not found');
    expect(loads(run, '/src/store/db.ts')).toBe(true);
    for (const part of ['/src/render/compile-issue.ts', '/node_modules/mjml', '/src/http/', '/node_modules/fastify/']) {
      expect(loads(run, part), part).toBe(false);
    }
  });

  it('the full help lists every command, and a mistyped one is answered with a suggestion', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const name of ['migrate', 'subscribers', 'ses-simulator', 'serve', 'tokens', 'demo', 'render', 'check', 'send', 'campaigns', 'worker', 'store']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    }
    // Every command's definition, none of their machinery: help is for reading, at once.
    for (const part of ['/src/render/compile-issue.ts', '/node_modules/mjml', '/src/http/server.ts', '/node_modules/fastify/', '/node_modules/bullmq/', '/src/composition-root.ts', '/node_modules/@aws-sdk/client-ses/']) {
      expect(loads(help, part), part).toBe(false);
    }
    const typo = await cli(['chekc']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("unknown command 'chekc'");
    expect(typo.stderr).toContain('check');
  });
});
