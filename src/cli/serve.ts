/**
 * `serve [--port N] [--host H]`: the HTTP server (API, dashboard, webhooks, unsubscribe,
 * metrics). Prints `listening on URL` on stdout once ready; on SIGTERM/SIGINT it stops
 * accepting, finishes in-flight requests and exits 0.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { InputError } from '../errors.js';
import { requireSigningSecrets } from '../secrets/signing-secrets.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the HTTP server: /api, /admin, /webhooks/ses, /u/:token, /metrics, /healthz')
    .option('--port <port>', 'port (default PORT, 3000; 0 = any free port)')
    .option('--host <host>', 'interface (default HOST, 127.0.0.1; 0.0.0.0 = every interface)')
    .action(async (opts: { port?: string; host?: string }) => {
      // Refuse to start without a strong link-signing secret: /u/… and /subscribe depend on it.
      const config = requireSigningSecrets(loadConfig(), 'serve');
      const port = opts.port !== undefined ? Number(opts.port) : config.PORT;
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InputError(`--port must be 0..65535, got "${opts.port}"`);
      const [{ openAppContext }, { buildServer, drainOnSignals }, { buildMetricsApp }] = await Promise.all([
        import('../app-context.js'),
        import('../http/server.js'),
        import('../http/metrics.js'),
      ]);
      const ctx = await openAppContext(config);
      let app: Awaited<ReturnType<typeof buildServer>>;
      try {
        app = await buildServer(ctx.serverDeps());
      } catch (err) {
        // A setup error (e.g. an unreadable SNS_CERTS) ends the command: release Redis and the store so it exits.
        await ctx.close().catch(() => undefined);
        throw err;
      }
      const host = opts.host ?? config.HOST;
      // METRICS_PORT: /metrics on its own listener (buildServer leaves it off the main port).
      const metricsApp = config.METRICS_PORT !== undefined ? buildMetricsApp(ctx.metrics, { token: config.METRICS_TOKEN }) : null;
      drainOnSignals(app, async () => {
        await metricsApp?.close();
        await ctx.close();
      });
      const address = await app.listen({ port, host });
      const url = new URL(address);
      if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = '127.0.0.1';
      let metricsAt = `${url.origin}/metrics`;
      if (metricsApp) {
        const m = new URL(await metricsApp.listen({ port: config.METRICS_PORT, host }));
        if (m.hostname === '0.0.0.0' || m.hostname === '[::]') m.hostname = '127.0.0.1';
        metricsAt = `${m.origin}/metrics`;
      }
      console.log(`listening on ${url.origin}  (dashboard ${url.origin}/admin, API docs ${url.origin}/admin/api-docs, metrics ${metricsAt})`);
    });
}
