/**
 * The compiler and SES as the campaign glue needs them: Markdown → the campaign's compiled
 * issue and subject (the same path as the CLI's `send`), the HTML preview for a sample
 * reader, and test sends (outside the ledger, to addresses the editor names).
 */
import type { Redis } from 'ioredis';
import { compileCampaignIssue, draftCampaignIssue } from '../../campaigns/campaign-issue.js';
import { archiveUrlFor } from '../../archive/archive-url.js';
import { readerCopy, recipientFor, sampleRecipient } from '../../campaigns/campaign-message.js';
import type { AudienceSource } from '../../campaigns/ports.js';
import type { SubscribersRepository } from '../../store/subscribers-repository.js';
import { sendTestCopies } from '../../campaigns/test-send.js';
import type { Config } from '../../config.js';
import type { Logger } from '../../logger.js';
import { renderForRecipient } from '../../render/preview.js';
import type { CompiledIssue } from '../../render/types.js';
import type { SesTransport } from '../../ses/ses-transport.js';
import type { Campaign } from '../../store/schema.js';
import type { CampaignsServiceDeps } from './campaigns-service.js';

export interface CompilerBridge {
  compile: CampaignsServiceDeps['compile'];
  draftIssue: NonNullable<CampaignsServiceDeps['draftIssue']>;
  readerCopy: NonNullable<CampaignsServiceDeps['readerCopy']>;
  renderPreview(compiled: CompiledIssue, campaign: Campaign): string;
  sendTest(campaign: Campaign, compiled: CompiledIssue, to: string[]): Promise<string[]>;
}

/** Who a preview may be personalised for: a subscriber looked up by address, mailable on the list. */
export interface ReaderLookup {
  subscribers: Pick<SubscribersRepository, 'findByEmail'>;
  audience: Pick<AudienceSource, 'isMailable'>;
}

/**
 * `ses`: the process's SES transport (the composition root's; it owns and closes it).
 * `readers`: without it, previews always show a sample reader.
 */
export function createCompilerBridge(config: Config, redis: Redis, ses: () => SesTransport, logger?: Logger, readers?: ReaderLookup): CompilerBridge {
  // A preview needs no real sender; FROM_ADDRESS when set, so the inbox line shows it.
  const sender = { from: config.FROM_ADDRESS ?? `${config.LIST_NAME} <newsletter@example.com>`, publicUrl: config.PUBLIC_URL, listName: config.LIST_NAME };
  return {
    // Errors point at the request's `markdown` field, with the lines in the message.
    compile: (source) => compileCampaignIssue({ ...source, errorLocation: 'markdown' }, config),

    draftIssue: (source) => draftCampaignIssue(source, config),

    async readerCopy(source, list, as) {
      const sample = (note: string | null) => {
        const recipient = sampleRecipient(config.PUBLIC_URL, as);
        return { copy: readerCopy(source, sender, recipient), reader: { email: recipient.email, name: recipient.name, sample: true, note } };
      };
      if (as === undefined) return sample(null);
      if (!readers) return sample('subscribers cannot be looked up here');
      const subscriber = await readers.subscribers.findByEmail(as);
      if (!subscriber) return sample(`${as} is not a subscriber: a sample reader with that address`);
      if (!(await readers.audience.isMailable(subscriber.id, list.id))) return sample(`${as} is not mailed by list "${list.name}": a sample reader with that address`);
      if (!config.UNSUBSCRIBE_SECRET) return sample('UNSUBSCRIBE_SECRET is not set: no real unsubscribe link');
      const recipient = recipientFor({ publicUrl: config.PUBLIC_URL, unsubscribeSecret: config.UNSUBSCRIBE_SECRET }, list.id, subscriber);
      return { copy: readerCopy(source, sender, recipient), reader: { email: subscriber.email, name: subscriber.name, sample: false, note: null } };
    },

    renderPreview(compiled, campaign) {
      // A sample reader, and the archive link the subscribers' message carries.
      return renderForRecipient(compiled, sampleRecipient(config.PUBLIC_URL), archiveUrlFor(config.PUBLIC_URL, campaign.issue_slug)).html;
    },

    async sendTest(campaign, _compiled, to) {
      const copies = await sendTestCopies({ config, ses: ses(), redis }, campaign, to);
      logger?.info({ campaignId: campaign.id, copies: copies.length }, 'test copies sent');
      return copies.map((c) => c.email);
    },
  };
}
