/**
 * The compiler and SES as the campaign glue needs them: Markdown → the campaign's compiled
 * issue and subject (the same path as the CLI's `send`), the HTML preview for a sample
 * reader, and test sends (outside the ledger, to addresses the editor names).
 */
import type { Redis } from 'ioredis';
import { compileCampaignIssue } from '../../campaigns/campaign-issue.js';
import { archiveUrlFor } from '../../archive/archive-url.js';
import { sampleRecipient } from '../../campaigns/campaign-message.js';
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
  renderPreview(compiled: CompiledIssue, campaign: Campaign): string;
  sendTest(campaign: Campaign, compiled: CompiledIssue, to: string[]): Promise<string[]>;
}

/** `ses`: the process's SES transport (the composition root's; it owns and closes it). */
export function createCompilerBridge(config: Config, redis: Redis, ses: () => SesTransport, logger?: Logger): CompilerBridge {
  return {
    // Errors point at the request's `markdown` field, with the lines in the message.
    compile: (source) => compileCampaignIssue({ ...source, errorLocation: 'markdown' }, config),

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
