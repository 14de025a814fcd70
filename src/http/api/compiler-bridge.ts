/**
 * The compiler and SES as the campaign glue needs them: Markdown → CompiledIssue (with
 * the issue's title/slug/date and a sample subject), the HTML preview for a sample
 * reader, and test sends (outside the ledger, to addresses the editor names).
 */
import Handlebars from 'handlebars';
import type { Config } from '../../config.js';
import { InputError } from '../../errors.js';
import { parseIssue } from '../../issue/index.js';
import type { Logger } from '../../logger.js';
import { compileIssueDetailed, prepareMessages } from '../../render/index.js';
import { compileOptionsFromConfig } from '../../render/options-from-config.js';
import { TEMPLATE_CONSTANTS } from '../../render/template-text.js';
import type { CompiledIssue } from '../../render/types.js';
import { SesTransport } from '../../ses/ses-transport.js';
import { signUnsubscribeToken } from '../../unsubscribe/token.js';
import type { Campaign } from '../../store/schema.js';
import type { CompiledSource } from './campaigns-service.js';

export const SAMPLE_READER = { name: 'Sample Reader', email: 'reader@example.com' } as const;

export interface CompilerBridge {
  compile(markdown: string, file: string): Promise<CompiledSource>;
  renderPreview(compiled: CompiledIssue, campaign: Campaign): string;
  sendTest(campaign: Campaign, compiled: CompiledIssue, to: string[]): Promise<string[]>;
  close(): Promise<void>;
}

export function createCompilerBridge(config: Config, logger?: Logger): CompilerBridge {
  let ses: SesTransport | undefined;

  return {
    async compile(markdown, file) {
      const issue = parseIssue(markdown, file, { siteUrl: config.SITE_URL ?? null });
      const errors = issue.diagnostics.filter((d) => d.severity === 'error');
      if (errors.length > 0) {
        throw new InputError(errors.map((d) => `${d.line ? `line ${d.line}: ` : ''}${d.message}`).join('; '), 'markdown');
      }
      const result = await compileIssueDetailed(issue, compileOptionsFromConfig(config));
      // Stored subject: the template without recipient fields, as the CLI's `send` stores it.
      const subject = Handlebars.compile(result.compiled.subjectTemplate, { noEscape: true })({ ...TEMPLATE_CONSTANTS, name: '', email: '' });
      return {
        compiled: result.compiled,
        title: issue.title ?? result.compiled.meta.title,
        slug: issue.slug,
        date: issue.date,
        subject: subject.replace(/[\r\n]+/g, ' ').trim() || result.compiled.meta.title,
        warnings: result.diagnostics.filter((d) => d.severity === 'warning'),
      };
    },

    renderPreview(compiled) {
      return Handlebars.compile(compiled.htmlTemplate)({
        ...TEMPLATE_CONSTANTS,
        ...SAMPLE_READER,
        unsubscribeUrl: `${config.PUBLIC_URL}/u/preview`,
        archiveUrl: config.PUBLIC_URL,
      });
    },

    async sendTest(campaign, compiled, to) {
      if (!config.FROM_ADDRESS) throw new InputError('FROM_ADDRESS is not set on the server', 'to');
      ses ??= SesTransport.fromConfig(config);
      const factory = prepareMessages(compiled, {
        from: config.FROM_ADDRESS,
        campaignId: campaign.id,
        listId: `${config.LIST_NAME} <list-${campaign.list_id}.${new URL(config.PUBLIC_URL).hostname}>`,
      });
      const sent: string[] = [];
      for (const email of to) {
        // Test recipients are not subscribers: their unsubscribe link is a harmless dummy token.
        const token = config.UNSUBSCRIBE_SECRET ? signUnsubscribeToken({ subscriberId: 0, listId: campaign.list_id }, config.UNSUBSCRIBE_SECRET) : 'test';
        const message = factory.build({ subscriberId: 0, email, name: null, unsubscribeUrl: `${config.PUBLIC_URL}/u/${token}` });
        // Exactly the message subscribers get. No `campaign` tag: SES events about test
        // sends must not count in the campaign's stats.
        await ses.sendRaw({ raw: message.raw, from: config.FROM_ADDRESS, to: email, tags: { test: `c${campaign.id}` } });
        logger?.info({ campaignId: campaign.id }, 'test message sent');
        sent.push(email);
      }
      return sent;
    },

    async close() {
      ses?.destroy();
    },
  };
}
