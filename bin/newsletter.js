#!/usr/bin/env node
// Package bin: runs the TypeScript CLI in this process through tsx's loader (no build step,
// no child process, so SIGTERM reaches `serve` and `worker` directly and they drain cleanly).
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

register();
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await import(pathToFileURL(join(root, 'src/cli/main.ts')).href);
