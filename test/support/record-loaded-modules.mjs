/**
 * `node --import <this>`: writes every module URL the process resolved, one per line, to the
 * file named by LOADED_MODULES_OUT when it exits (test/cli/cli-startup.test.ts).
 */
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import process from 'node:process';

const seen = new Set();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    seen.add(resolved.url);
    return resolved;
  },
});
process.on('exit', () => writeFileSync(process.env.LOADED_MODULES_OUT, [...seen].join('\n')));
