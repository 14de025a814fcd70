/**
 * How the CLI ends on an error: typed errors in one line (exit 2 for configuration or input,
 * 1 otherwise), an unreachable database in one line (1), anything else with its stack (1). Shared by src/cli/main.ts and the compiled
 * worker path of bin/newsletter.js.
 */
import { ConfigError, InputError, NewsletterError } from '../errors.js';
import { isStoreUnavailable, storeErrorText } from '../store/store-errors.js';

/** Print `err` for a terminal user; returns the exit code. */
export function reportError(err: unknown): number {
  if (err instanceof NewsletterError) {
    console.error(`newsletter: ${err.message}`);
    return err instanceof ConfigError || err instanceof InputError ? 2 : 1;
  }
  if (isStoreUnavailable(err)) {
    // A restart or an outage, not a bug: one line, no stack.
    console.error(`newsletter: the database is unreachable (${storeErrorText(err)}); check DATABASE_URL and that the database is up, then try again`);
    return 1;
  }
  console.error(err);
  return 1;
}
