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
import { requireSigningSecrets } from '../secrets/signing-secrets.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the HTTP server: /api, /admin, /webhooks/ses, /u/:token, /metrics, /healthz')
    .option('--port <port>', 'port (default PORT, 3000; 0 = any free port)')
    .option('--host <host>', 'interface (default HOST, 0.0.0.0)')
    .action(async (opts: { port?: string; host?: string }) => {
      // Refuse to start without a strong link-signing secret: /u/… and /subscribe depend on it.
      const config = requireSigningSecrets(loadConfig(), 'serve');
      const port = opts.port !== undefined ? Number(opts.port) : config.PORT;
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InputError(`--port must be 0..65535, got "${opts.port}"`);
      const ctx = await openAppContext(config);
      const app = await buildServer(ctx.serverDeps());
      drainOnSignals(app, () => ctx.close());
      const address = await app.listen({ port, host: opts.host ?? config.HOST });
      const url = new URL(address);
      if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = '127.0.0.1';
      console.log(`listening on ${url.origin}  (dashboard ${url.origin}/admin, API docs ${url.origin}/api/openapi.json)`);
    });
}
