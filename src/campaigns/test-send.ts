/**
 * Test copies of a campaign, to addresses an editor names (CLI `campaigns test`, API
 * `POST /api/campaigns/:id/test`): the subscribers' message from the same builder
 * (campaign-message.ts) but for the recipient fields, the unsubscribe token and the test
 * marker; outside the ledger and — like every send — inside the fleet's global SES rate.
 * The caller records the copies in the campaign's activity (`CampaignOrchestrator.recordTest`)
 * with its actor: the API with the token's, the CLI as `cli`.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { RateLimiter } from '../queue/rate-limiter.js';
import { DEFAULT_SEND_RATE } from '../ses/send-rate.js';
import type { SesTransport } from '../ses/ses-transport.js';
import type { Campaign } from '../store/schema.js';
import { messageSourceOf, prepareCampaignMessages, senderSettings, testTags } from './campaign-message.js';

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

export async function sendTestCopies(deps: TestSendDeps, campaign: Campaign, to: readonly string[]): Promise<TestCopy[]> {
  const { config } = deps;
  const sender = senderSettings(config, 'to');
  const messages = prepareCampaignMessages(messageSourceOf(campaign), sender);
  // Follows the fleet's rate (set by the workers); its own only if no worker ever ran.
  const limiter = new RateLimiter({
    redis: deps.redis,
    prefix: config.QUEUE_PREFIX,
    ratePerSecond: config.SEND_RATE ?? DEFAULT_SEND_RATE,
    assertRate: false,
  });
  const copies: TestCopy[] = [];
  for (const email of to) {
    const message = messages.buildTest(email);
    await limiter.acquire();
    const { messageId } = await deps.ses.sendRaw({ raw: message.raw, from: sender.from, to: email, tags: testTags(campaign.id) });
    copies.push({ email, messageId });
  }
  return copies;
}
