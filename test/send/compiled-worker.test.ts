/**
 * The production worker: `npm run build` compiles src/ and workers/ to dist/, and
 * `newsletter worker` (bin/newsletter.js) runs dist/workers/index.js when it is current
 * (bin/compiled.js), else the TypeScript through tsx.
 */
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyAssets, currentCompiled as compiled } from '../../bin/compiled.js';
import { createHarness, type Harness } from '../support/send-harness.js';
import { ROOT } from '../support/pipeline.js';

describe('currentCompiled (which worker `newsletter worker` runs)', () => {
  let root: string;
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const file = (path: string, mtimeS: number) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), '');
    utimesSync(join(root, path), mtimeS, mtimeS);
  };

  it('uses dist/ only when it is stamped and no source (tests aside) is newer', () => {
    root = mkdtempSync(join(tmpdir(), 'nl-compiled-'));
    file('src/a.ts', 1000);
    file('workers/index.ts', 1000);
    file('dist/workers/index.js', 1001);
    expect(compiled('workers/index.js', root)).toBeNull(); // built but not stamped: tsc may have failed half-way
    file('dist/.built', 1001);
    expect(compiled('workers/index.js', root)).toBe(join(root, 'dist/workers/index.js'));
    expect(compiled('workers/missing.js', root)).toBeNull();
    file('src/deep/er/a.test.ts', 2000); // tests are not compiled
    expect(compiled('workers/index.js', root)).toBe(join(root, 'dist/workers/index.js'));
    file('src/deep/er/b.ts', 2000); // an edit after the build: back to the TypeScript
    expect(compiled('workers/index.js', root)).toBeNull();
  });

  it('copies the runtime files tsc does not emit (Lua scripts) into dist/, and an edit to one makes the build stale', () => {
    root = mkdtempSync(join(tmpdir(), 'nl-compiled-'));
    file('src/q/limiter.ts', 1000);
    file('src/q/scripts/hit.lua', 1000);
    file('src/q/limiter.test.ts', 1000);
    file('dist/src/q/limiter.js', 1001);
    copyAssets(root);
    expect(existsSync(join(root, 'dist/src/q/scripts/hit.lua'))).toBe(true);
    expect(existsSync(join(root, 'dist/src/q/limiter.test.ts'))).toBe(false);
    file('dist/.built', 1001);
    expect(compiled('src/q/limiter.js', root)).toBe(join(root, 'dist/src/q/limiter.js'));
    file('src/q/scripts/hit.lua', 2000);
    expect(compiled('src/q/limiter.js', root)).toBeNull();
  });
});

describe('the compiled worker', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('`npm run build`, then `newsletter worker` runs dist/: it sends a campaign exactly once and exits 0 on SIGTERM', async () => {
    execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'pipe' });
    const entry = join(ROOT, 'dist/workers/index.js');
    expect(compiled('workers/index.js', ROOT)).toBe(entry);

    h = await createHarness({ subscribers: 300, sendRate: 1000 });
    const id = await h.startCampaign();
    // Started as users start it. WORKER_HEAP_MB makes the bin re-execute the worker entry it
    // chose with the heap flag, so the child's command line shows which one that was.
    const worker = await h.spawnWorker({ WORKER_HEAP_MB: '160' }, [join(ROOT, 'bin/newsletter.js'), 'worker']);
    const childArgs = execFileSync('ps', ['-o', 'args=', '--ppid', String(worker.pid)], { encoding: 'utf8' }).trim();
    expect(childArgs).toMatch(/--max-old-space-size=160 .*dist\/workers\/index\.js$/);

    await h.waitForStatus(id, 'sent', 60_000);
    const counts = h.counts();
    expect(h.expectedEmails().filter((e) => counts.get(e) !== 1)).toEqual([]);
    expect(h.sim.messages).toHaveLength(300);

    const exit = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
    worker.kill('SIGTERM');
    expect(await exit).toBe(0);
  }, 300_000); // `npm run build` (tsc over the project) alone takes minutes on busy cores
  it('without a current build, `newsletter worker` runs the TypeScript; with WORKER_HEAP_MB its re-executed child gets tsx from the package, whatever the working directory', async () => {
    // A package layout with no dist/: the bin and package.json copied, the sources linked.
    const pkg = mkdtempSync(join(tmpdir(), 'nl-pkg-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'nl-cwd-'));
    mkdirSync(join(pkg, 'bin'));
    for (const f of ['newsletter.js', 'compiled.js']) copyFileSync(join(ROOT, 'bin', f), join(pkg, 'bin', f));
    copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    for (const d of ['src', 'workers', 'node_modules']) symlinkSync(join(ROOT, d), join(pkg, d));
    onTestFinished(() => {
      rmSync(pkg, { recursive: true, force: true });
      rmSync(elsewhere, { recursive: true, force: true });
    });
    h = await createHarness({ subscribers: 20, sendRate: 1000 });
    const id = await h.startCampaign();
    const worker = await h.spawnWorker({ WORKER_HEAP_MB: '160' }, [join(pkg, 'bin/newsletter.js'), 'worker'], { cwd: elsewhere });
    const childArgs = execFileSync('ps', ['-o', 'args=', '--ppid', String(worker.pid)], { encoding: 'utf8' });
    expect(childArgs).toMatch(/--import file:\/\/\S+\/tsx\/\S+ --max-old-space-size=160 \S+\/workers\/index\.ts/);
    await h.waitForStatus(id, 'sent', 60_000);
    expect(h.sim.messages).toHaveLength(20);
    const exit = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
    worker.kill('SIGTERM');
    expect(await exit).toBe(0);
  }, 300_000); // `npm run build` (tsc over the project) alone takes minutes on busy cores
});
