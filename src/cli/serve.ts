/**
 * `serve [--port N] [--host H]`: the HTTP server (API, dashboard, webhooks, unsubscribe,
 * metrics). Prints `listening on URL` on stdout once ready; on SIGTERM/SIGINT it stops
 * accepting, finishes in-flight requests and exits 0.
 */
import type { Command } from 'commander';
import { openAppContext } from '../app-context.js';
import { loadConfig } from '../config.js';
import { InputError } from '../errors.js';
import { buildServer, drainOnSignals } from '../http/server.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the HTTP server: /api, /admin, /webhooks/ses, /u/:token, /metrics, /healthz')
    .option('--port <port>', 'port (default PORT, 3000; 0 = any free port)')
    .option('--host <host>', 'interface (default HOST, 0.0.0.0)')
    .action(async (opts: { port?: string; host?: string }) => {
      const config = loadConfig();
      const port = opts.port !== undefined ? Number(opts.port) : config.PORT;
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InputError(`--port must be 0..65535, got "${opts.port}"`);
      const ctx = await openAppContext(config);
      let app: Awaited<ReturnType<typeof buildServer>>;
      try {
        app = await buildServer(ctx.serverDeps());
      } catch (err) {
        // A setup error (e.g. an unreadable SNS_CERTS) ends the command: release Redis and the store so it exits.
        await ctx.close().catch(() => undefined);
        throw err;
      }
      drainOnSignals(app, () => ctx.close());
      const address = await app.listen({ port, host: opts.host ?? config.HOST });
      const url = new URL(address);
      if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = '127.0.0.1';
      console.log(`listening on ${url.origin}  (dashboard ${url.origin}/admin, API docs ${url.origin}/api/openapi.json)`);
    });
}
