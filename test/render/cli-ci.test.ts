/**
 * Issue-as-code: the CLI as a CI job uses it (the real `node --import tsx src/cli/main.ts`).
 * `check --json` prints every diagnostic with file and line on stdout and keeps the exit
 * code; `render --screenshot` writes the reader's HTML as 600 and 375 px wide PNGs with the
 * installed Chromium.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_ISSUE, EXAMPLE_SITE_URL } from '../support/example-issue.js';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'cli-ci-'));

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: { ...process.env, SITE_URL: EXAMPLE_SITE_URL } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Width and height of a PNG, from its IHDR chunk. */
function pngSize(path: string): { width: number; height: number } {
  const b = readFileSync(path);
  expect(b.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

describe('check --json', () => {
  it('prints every diagnostic with file, line and column on stdout, and exits 1 on errors', async () => {
    const broken = join(dir, 'broken.md');
    writeFileSync(broken, '---\ntitle: Broken\n---\n\nIntro.\n\nSee [nothing]() here.\n');
    const bad = await cli(['check', '--json', broken, EXAMPLE_ISSUE]);
    expect(bad.code, bad.stderr).toBe(1);
    const diagnostics = JSON.parse(bad.stdout) as Array<Record<string, unknown>>;
    expect(diagnostics).toContainEqual({ file: broken, line: 7, column: null, severity: 'error', message: 'empty link [nothing]()' });
    expect(diagnostics.every((d) => d.file === broken)).toBe(true);
    const good = await cli(['check', '--json', EXAMPLE_ISSUE]);
    expect(good.code, good.stderr).toBe(0);
    expect(JSON.parse(good.stdout)).toEqual([]);
  }, 120_000);
});

describe('render --screenshot', () => {
  it('writes the reader’s HTML as 600 and 375 px wide, full-height PNGs with Chromium', async () => {
    const out = join(dir, 'shots');
    const run = await cli(['render', EXAMPLE_ISSUE, '--out-dir', out, '--screenshot']);
    expect(run.code, run.stderr).toBe(0);
    const name = EXAMPLE_ISSUE.split('/').at(-1)!.replace(/\.md$/, '');
    expect(run.stdout.trim().split('\n')).toEqual([join(out, `${name}.html`), join(out, `${name}-600.png`), join(out, `${name}-375.png`)]);
    const wide = pngSize(join(out, `${name}-600.png`));
    const narrow = pngSize(join(out, `${name}-375.png`));
    expect(wide.width).toBe(600);
    expect(narrow.width).toBe(375);
    // Full height: the narrow column wraps into a taller page.
    expect(narrow.height).toBeGreaterThan(wide.height);
    const refused = await cli(['render', EXAMPLE_ISSUE, '--screenshot']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/--screenshot needs --out-dir/);
  }, 120_000);
});
