/**
 * The start-up check of `serve` and `worker` (and the demo): link-signing secrets must be
 * set and strong (src/secrets/secret-strength.ts). A weak UNSUBSCRIBE_SECRET lets anyone
 * forge unsubscribe, confirmation and resubscribe links for every subscriber; a missing one
 * leaves one-click unsubscribe answering 400 and the sign-up pages off, silently.
 */
import type { Config } from '../config.js';
import { WeakSecretError } from '../errors.js';
import { assessSecret, MAKE_SECRET_HINT } from './secret-strength.js';

type SecretVariable = 'UNSUBSCRIBE_SECRET' | 'UNSUBSCRIBE_SECRET_OLD' | 'SIGNUP_SECRET';

type SecretsConfig = Pick<Config, SecretVariable>;

/**
 * Return the config with UNSUBSCRIBE_SECRET known to be set, or throw WeakSecretError naming
 * the variable, what is wrong with it and how to make one. UNSUBSCRIBE_SECRET_OLD and
 * SIGNUP_SECRET are optional (SIGNUP_SECRET falls back to UNSUBSCRIBE_SECRET) but held to the
 * same rule when set: each is a key that signs or accepts links.
 */
export function requireSigningSecrets<C extends SecretsConfig>(config: C, forWhat: string): C & { UNSUBSCRIBE_SECRET: string } {
  const secret = config.UNSUBSCRIBE_SECRET;
  if (!secret) {
    throw new WeakSecretError(
      'UNSUBSCRIBE_SECRET',
      `${forWhat} needs UNSUBSCRIBE_SECRET (it signs every unsubscribe, confirmation and resubscribe link); ${MAKE_SECRET_HINT}`,
    );
  }
  const variables: SecretVariable[] = ['UNSUBSCRIBE_SECRET', 'UNSUBSCRIBE_SECRET_OLD', 'SIGNUP_SECRET'];
  for (const variable of variables) {
    const value = config[variable];
    if (!value) continue;
    const verdict = assessSecret(value);
    if (!verdict.ok) throw new WeakSecretError(variable, `${forWhat}: ${variable} ${verdict.reason}; ${MAKE_SECRET_HINT}`);
  }
  return config as C & { UNSUBSCRIBE_SECRET: string };
}
