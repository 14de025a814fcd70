/**
 * How the CLI ends on an error: typed errors in one line (exit 2 for configuration or input,
 * 1 otherwise), anything else with its stack (1). Shared by src/cli/main.ts and the compiled
 * worker path of bin/newsletter.js.
 */
import { ConfigError, InputError, NewsletterError } from '../errors.js';

/** Print `err` for a terminal user; returns the exit code. */
export function reportError(err: unknown): number {
  if (err instanceof NewsletterError) {
    console.error(`newsletter: ${err.message}`);
    return err instanceof ConfigError || err instanceof InputError ? 2 : 1;
  }
  console.error(err);
  return 1;
}
