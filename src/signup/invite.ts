/**
 * Double opt-in on the editor's request (`subscribers add --double-opt-in`): the address
 * gets the same confirmation mail as a form sign-up and joins the list when it confirms.
 * Plain adds and imports stay single opt-in: the editor vouches for those addresses.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { StateError } from '../errors.js';
import type { Store } from '../store/db.js';
import { openRepositories } from '../store/repositories.js';
import { parseEmail, parseName } from '../subscribers/subscriber-fields.js';
import { openSignupPages } from './signup-pages.js';
import { requestSignup, type SignupOutcome } from './signup-service.js';

export async function inviteSubscriber(
  config: Config,
  store: Store,
  redis: Redis,
  input: { email: string; name?: string | null; listName: string },
  now: () => number = Date.now,
): Promise<Exclude<SignupOutcome, 'refused' | 'address-limited'>> {
  const email = parseEmail(input.email);
  const pages = openSignupPages(config, redis);
  try {
    const outcome = await requestSignup(
      {
        repos: openRepositories(store, now),
        now,
        expiryMs: config.PENDING_EXPIRY_H * 3600_000,
        // The editor asked explicitly: no per-address limit.
        allowMailTo: async () => true,
        enqueueConfirmation: pages.signup.enqueueConfirmation,
      },
      { email, name: parseName(input.name), list: input.listName },
    );
    if (outcome === 'refused') throw new StateError(`${email} bounced, complained or is suppressed; no confirmation email was sent`);
    if (outcome === 'address-limited') throw new Error('unreachable: no per-address limit for editor invitations');
    return outcome;
  } finally {
    await pages.close();
  }
}
