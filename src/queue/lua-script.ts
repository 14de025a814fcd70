/**
 * Redis Lua scripts live in .lua files beside the module that runs them (as BullMQ keeps
 * its commands), read once when that module loads. The build copies every .lua file into
 * dist/ at the same relative place (bin/compiled.js --assets), so a URL relative to the
 * caller's import.meta.url finds it under tsx and compiled alike.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** A script's source and its SHA1, the name EVALSHA runs it by. */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

/** The files (relative to `base`, the caller's import.meta.url) joined in order: a shared prelude first. */
export function loadLuaScript(base: string, ...files: string[]): LuaScript {
  const source = files.map((file) => readFileSync(new URL(file, base), 'utf8')).join('\n');
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}
