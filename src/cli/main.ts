#!/usr/bin/env node
/**
 * The `newsletter` CLI. Each command group lives in its own file and registers itself;
 * commands are thin: parse arguments, call src/, print. Exit codes: 0 ok, 1 failed
 * (check found errors, a send failed), 2 usage or configuration error.
 */
import { Command, CommanderError } from 'commander';
import { reportError } from './report-error.js';
import { registerMigrate } from './migrate.js';
import { registerSubscribers } from './subscribers.js';
import { registerSesSimulator } from './ses-simulator.js';
import { registerServe } from './serve.js';
import { registerTokens } from './tokens.js';
import { registerDemo } from './demo.js';
import { registerRender } from './render.js';
import { registerCheck } from './check.js';
import { registerSend } from './send.js';
import { registerCampaigns } from './campaigns.js';
import { registerWorker } from './worker.js';
import { registerStore } from './store.js';
import { unsupportedNodeMessage } from '../runtime/node-runtime.js';

const unsupported = unsupportedNodeMessage(process.version);
if (unsupported) {
  process.stderr.write(`error: ${unsupported}\n`);
  process.exit(2);
}

const program = new Command('newsletter')
  .description('Compile Markdown newsletter issues and send them through Amazon SES')
  .showHelpAfterError()
  .exitOverride();

registerMigrate(program);
registerSubscribers(program);
registerSesSimulator(program);
registerServe(program);
registerTokens(program);
registerDemo(program);
registerRender(program);
registerCheck(program);
registerSend(program);
registerCampaigns(program);
registerWorker(program);
registerStore(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    process.exitCode = reportError(err);
  }
}
