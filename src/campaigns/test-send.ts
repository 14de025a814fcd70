/**
 * Test copies of a campaign, to addresses an editor names (CLI `campaigns test`, API
 * `POST /api/campaigns/:id/test`): exactly the message subscribers get, outside the ledger,
 * and — like every send — inside the fleet's global SES rate.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { InputError } from '../errors.js';
import { RateLimiter } from '../queue/rate-limiter.js';
import { prepareMessages } from '../render/prepare-messages.js';
import type { CompiledIssue } from '../render/types.js';
import { DEFAULT_SEND_RATE } from '../ses/send-rate.js';
import type { SesTransport } from '../ses/ses-transport.js';
import type { Campaign } from '../store/schema.js';
import { signUnsubscribeToken } from '../unsubscribe/token.js';

export interface TestSendDeps {
  config: Config;
  ses: Pick<SesTransport, 'sendRaw'>;
  /** Redis of the fleet, for the shared rate limiter. */
  redis: Redis;
}

export interface TestCopy {
  email: string;
  messageId: string;
}

export function listIdHeader(config: Pick<Config, 'LIST_NAME' | 'PUBLIC_URL'>, listId: number): string {
  return `${config.LIST_NAME.replace(/[<>\r\n"]/g, '')} <list-${listId}.${new URL(config.PUBLIC_URL).hostname}>`;
}

export async function sendTestCopies(deps: TestSendDeps, campaign: Campaign, to: readonly string[]): Promise<TestCopy[]> {
  const { config } = deps;
  if (!config.FROM_ADDRESS) throw new InputError('FROM_ADDRESS is not set', 'to');
  if (!config.UNSUBSCRIBE_SECRET) throw new InputError('UNSUBSCRIBE_SECRET is not set', 'to');
  if (!campaign.compiled_json) throw new InputError(`campaign ${campaign.id} has no compiled issue`);
  const factory = prepareMessages(JSON.parse(campaign.compiled_json) as CompiledIssue, {
    from: config.FROM_ADDRESS,
    campaignId: campaign.id,
    listId: listIdHeader(config, campaign.list_id),
  });
  // Follows the fleet's rate (set by the workers); its own only if no worker ever ran.
  const limiter = new RateLimiter({
    redis: deps.redis,
    prefix: config.QUEUE_PREFIX,
    ratePerSecond: config.SEND_RATE ?? DEFAULT_SEND_RATE,
    assertRate: false,
  });
  // A test copy carries a token for subscriber 0 (no such subscriber): its unsubscribe link does nothing.
  const token = signUnsubscribeToken({ subscriberId: 0, listId: campaign.list_id }, config.UNSUBSCRIBE_SECRET);
  const copies: TestCopy[] = [];
  for (const email of to) {
    const message = factory.build({ subscriberId: 0, email, name: null, unsubscribeUrl: `${config.PUBLIC_URL}/u/${token}` });
    await limiter.acquire();
    // No `campaign` tag: SES events about test copies must not count in the campaign's stats.
    const { messageId } = await deps.ses.sendRaw({ raw: message.raw, from: config.FROM_ADDRESS, to: email, tags: { test: `c${campaign.id}` } });
    copies.push({ email, messageId });
  }
  return copies;
}
