#!/usr/bin/env node
// Package bin: runs the CLI in this process (no child process, so SIGTERM reaches `serve` and
// `worker` directly and they drain cleanly). `newsletter worker` runs the compiled worker from
// dist/ (`npm run build`) when it matches the sources: about 50 MB less memory than under tsx.
// Everything else, and the worker without a current build, runs the TypeScript through tsx.
import { pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { currentCompiled } from './compiled.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiledWorker = process.argv[2] === 'worker' && process.argv.length === 3 ? currentCompiled('workers/index.js', root) : null;
if (compiledWorker) {
  const load = (path) => import(pathToFileURL(join(root, path)).href);
  try {
    // Heap flags first, from the small modules alone (the config and heap-cap): a relaying parent should stay small.
    const [{ loadConfig }, { workerHeapArgsFor, runWithNodeFlags }] = await Promise.all([load('dist/src/config.js'), load('dist/workers/heap-cap.js')]);
    const capArgs = workerHeapArgsFor(loadConfig());
    if (capArgs.length > 0) await runWithNodeFlags(compiledWorker, capArgs);
    const { startWorker } = await import(pathToFileURL(compiledWorker).href);
    await startWorker(compiledWorker);
  } catch (err) {
    // As the CLI reports errors (src/cli/report-error.ts).
    const { reportError } = await import(pathToFileURL(join(root, 'dist/src/cli/report-error.js')).href);
    process.exit(reportError(err));
  }
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(root, 'src/cli/main.ts')).href);
}
