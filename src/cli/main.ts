#!/usr/bin/env node
/**
 * The `newsletter` CLI. Each command group lives in its own file and registers itself;
 * commands are thin: parse arguments, call src/, print. Exit codes: 0 ok, 1 failed
 * (check found errors, a send failed), 2 usage or configuration error.
 */
import { Command, CommanderError } from 'commander';
import { reportError } from './report-error.js';
import { unsupportedNodeMessage } from '../runtime/node-runtime.js';

type Register = (program: Command) => void;

/**
 * Each top-level command's file, loaded on demand: a command loads its own modules and no one
 * else's (`check` needs the renderer, not the HTTP server or the queue; the whole set took
 * seconds to load before anything ran). In the order `--help` lists them.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  migrate: async () => (await import('./migrate.js')).registerMigrate,
  subscribers: async () => (await import('./subscribers.js')).registerSubscribers,
  'ses-simulator': async () => (await import('./ses-simulator.js')).registerSesSimulator,
  serve: async () => (await import('./serve.js')).registerServe,
  tokens: async () => (await import('./tokens.js')).registerTokens,
  demo: async () => (await import('./demo.js')).registerDemo,
  render: async () => (await import('./render.js')).registerRender,
  check: async () => (await import('./check.js')).registerCheck,
  send: async () => (await import('./send.js')).registerSend,
  campaigns: async () => (await import('./campaigns.js')).registerCampaigns,
  worker: async () => (await import('./worker.js')).registerWorker,
  store: async () => (await import('./store.js')).registerStore,
};

const unsupported = unsupportedNodeMessage(process.version);
if (unsupported) {
  process.stderr.write(`error: ${unsupported}\n`);
  process.exit(2);
}

const program = new Command('newsletter')
  .description('Compile Markdown newsletter issues and send them through Amazon SES')
  .showHelpAfterError()
  .exitOverride();

try {
  // A known command registers alone; anything else (no command, --help, `help`, a typo) gets
  // them all, for the full help and Commander's suggestions.
  const name = process.argv[2];
  const wanted = name !== undefined && Object.hasOwn(COMMANDS, name) ? [COMMANDS[name]!] : Object.values(COMMANDS);
  for (const register of await Promise.all(wanted.map((load) => load()))) register(program);
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    process.exitCode = reportError(err);
  }
}
