#!/usr/bin/env node
// Package bin: runs the TypeScript CLI through tsx so no build step is needed.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
// `worker`: start the worker entry directly (none of the CLI's other commands loaded) with
// V8 heap limits unless a heap size is given (workers/heap-cap.ts says why).
const isWorker = args[0] === 'worker' && args.length === 1;
const capGiven = /--max[-_]old[-_]space[-_]size/.test(process.env.NODE_OPTIONS ?? '');
const nodeArgs = isWorker
  ? [...(capGiven ? [] : ['--max-old-space-size=128', '--max-semi-space-size=8']), '--import', 'tsx', join(root, 'workers/index.ts')]
  : ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args];
const result = spawnSync(process.execPath, nodeArgs, { stdio: 'inherit' });
process.exit(result.status ?? 1);
