// The compiled build (dist/, from `npm run build`) and whether it still matches the sources.
// `newsletter worker` runs dist/workers/index.js when it is current: a worker without tsx's
// loader needs about 50 MB less memory. Anything older than a source file is not used.
//   node bin/compiled.js --clean   remove dist/ (before tsc)
//   node bin/compiled.js --stamp   mark dist/ as built from the current sources (after tsc)
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DIRS = ['src', 'workers'];
const STAMP = '.built';

/** Newest modification time (ms) of the TypeScript sources a build compiles (tests excluded). */
function newestSourceMtime(root) {
  let newest = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const dir of SOURCE_DIRS) if (existsSync(join(root, dir))) walk(join(root, dir));
  return newest;
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
  if (process.argv.includes('--stamp')) writeFileSync(join(ROOT, 'dist', STAMP), `${new Date().toISOString()}\n`);
}
