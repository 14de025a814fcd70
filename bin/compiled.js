// The compiled build (dist/, from `npm run build`) and whether it still matches the sources.
// `newsletter worker` runs dist/workers/index.js when it is current: a worker without tsx's
// loader needs about 50 MB less memory. Anything older than a source file is not used.
//   node bin/compiled.js --clean   remove dist/ (before tsc)
//   node bin/compiled.js --assets  copy the runtime files tsc does not emit (after tsc)
//   node bin/compiled.js --stamp   mark dist/ as built from the current sources (after tsc)
import { cpSync, existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative as relativePath } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DIRS = ['src', 'workers'];
const STAMP = '.built';

/** Every file under the source directories that the build uses: all but tests. */
function buildInputs(root) {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (!entry.name.endsWith('.test.ts')) files.push(path);
    }
  };
  for (const dir of SOURCE_DIRS) if (existsSync(join(root, dir))) walk(join(root, dir));
  return files;
}

/** Newest modification time (ms) of what a build compiles or copies (tests excluded). */
function newestSourceMtime(root) {
  return buildInputs(root).reduce((newest, path) => Math.max(newest, statSync(path).mtimeMs), 0);
}

/**
 * Files the compiled modules read at run time beside themselves (import.meta.url): every
 * non-TypeScript file of the sources (Lua scripts, dashboard assets), copied to the same
 * place under dist/.
 */
export function copyAssets(root = ROOT) {
  for (const path of buildInputs(root)) {
    if (!path.endsWith('.ts')) cpSync(path, join(root, 'dist', relativePath(root, path)));
  }
}

/**
 * Absolute path of `relative` (e.g. 'workers/index.js') inside dist/ if the build is complete
 * (stamped) and no source is newer than it; otherwise null (run the TypeScript through tsx).
 */
export function currentCompiled(relative, root = ROOT) {
  const stamp = join(root, 'dist', STAMP);
  const file = join(root, 'dist', relative);
  if (!existsSync(stamp) || !existsSync(file)) return null;
  return newestSourceMtime(root) <= statSync(stamp).mtimeMs ? file : null;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--clean')) rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
  if (process.argv.includes('--assets')) copyAssets();
  if (process.argv.includes('--stamp')) writeFileSync(join(ROOT, 'dist', STAMP), `${new Date().toISOString()}\n`);
}
