/**
 * `npm run bench`: every benchmark in turn, each in its own process so one's memory and
 * JIT state do not colour the next. Each writes its own table under bench/results/;
 * the README's benchmark section is assembled from those files.
 *
 *   npm run bench                 # all
 *   npm run bench -- compile send # only the named ones
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const BENCHES: Record<string, string[]> = {
  compile: ['bench/compile.ts'],
  import: ['bench/import.ts'],
  'rate-limiter': ['bench/rate-limiter.ts'],
  'ses-simulator': ['bench/ses-simulator.ts'],
  webhook: ['bench/webhook.ts', '--backend', 'sqlite'],
  'webhook-postgres': ['bench/webhook.ts', '--backend', 'postgres'],
  send: ['bench/send.ts'],
  'ledger-writes': ['bench/ledger-writes.ts'],
  surfaces: ['bench/surfaces.ts'],
  preview: ['bench/preview.ts'],
  'bounce-settle': ['bench/bounce-settle.ts'],
};

const wanted = process.argv.slice(2);
const names = wanted.length ? wanted : Object.keys(BENCHES);
let failed = 0;
for (const name of names) {
  const command = BENCHES[name];
  if (!command) {
    console.error(`unknown bench "${name}"; known: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  if (!existsSync(`${ROOT}/${command[0]}`)) continue;
  console.log(`\n=== ${name}: tsx ${command.join(' ')}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', ...command], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    failed += 1;
    console.error(`=== ${name} failed (exit ${result.status})`);
  }
}
process.exit(failed ? 1 : 0);
