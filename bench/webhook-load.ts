/**
 * Load generator for bench/webhook.ts, run as its own process so the client's CPU
 * does not count against the server: posts the JSON array of bodies in FILE to URL
 * with N concurrent undici connections and prints {seconds, results} as JSON.
 *
 *   npx tsx bench/webhook-load.ts URL FILE N
 */
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

const [url, file, connections] = process.argv.slice(2);
const bodies = JSON.parse(readFileSync(file!, 'utf8')) as string[];
const target = new URL(url!);
const pool = new Pool(target.origin, { connections: Number(connections), pipelining: 1 });
const results: Array<{ status: number; applied?: boolean; ms: number }> = new Array(bodies.length);
let next = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: Number(connections) }, async () => {
    while (next < bodies.length) {
      const i = next++;
      const start = performance.now();
      const res = await pool.request({ path: target.pathname, method: 'POST', headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: bodies[i]! });
      const json = (await res.body.json()) as { applied?: boolean };
      results[i] = { status: res.statusCode, applied: json.applied, ms: performance.now() - start };
    }
  }),
);
const seconds = (performance.now() - t0) / 1000;
await pool.close();
process.stdout.write(JSON.stringify({ seconds, results }));
