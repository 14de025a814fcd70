/**
 * The production IO of a worker: the composition root's SES transport and global rate
 * limiter (at the rate src/ses/send-rate.ts resolves: SEND_RATE, else the account's
 * MaxSendRate, else 14/s) and the compiler's message factory.
 */
import type { Config } from '../src/config.js';
import { openCompositionRoot } from '../src/composition-root.js';
import { prepareMessages } from '../src/render/prepare-messages.js';
import type { CreateDepsContext, RuntimeDeps } from './runtime.js';

export { sesMailTransport } from '../src/ses/ses-mail-transport.js';

export async function createDefaultDeps(config: Config, ctx: CreateDepsContext): Promise<RuntimeDeps> {
  // Called without a root (outside startWorkerRuntime): open one, released by limiter.close().
  const root = ctx.root ?? openCompositionRoot(config, ctx.logger ? { logger: ctx.logger } : {});
  const limiter = await root.rateLimiter();
  return {
    transport: root.mailTransport(),
    limiter: ctx.root ? limiter : { ...limiter, close: () => root.close() },
    prepareMessages,
    sendRate: await root.sendRate(),
  };
}
