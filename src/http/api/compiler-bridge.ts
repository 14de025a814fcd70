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
import { compileIssueDetailed } from '../../render/index.js';
import { compileOptionsFromConfig } from '../../render/options-from-config.js';
import { TEMPLATE_CONSTANTS } from '../../render/template-text.js';
import type { CompiledIssue } from '../../render/types.js';
import { SesTransport } from '../../ses/ses-transport.js';
import { sendTestCopies } from '../../campaigns/test-send.js';
import type { Redis } from 'ioredis';
import type { Campaign } from '../../store/schema.js';
import type { CompiledSource } from './campaigns-service.js';

export const SAMPLE_READER = { name: 'Sample Reader', email: 'reader@example.com' } as const;

export interface CompilerBridge {
  compile(markdown: string, file: string): Promise<CompiledSource>;
  renderPreview(compiled: CompiledIssue, campaign: Campaign): string;
  sendTest(campaign: Campaign, compiled: CompiledIssue, to: string[]): Promise<string[]>;
  close(): Promise<void>;
}

export function createCompilerBridge(config: Config, redis: Redis, logger?: Logger): CompilerBridge {
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

    async sendTest(campaign, _compiled, to) {
      if (!config.FROM_ADDRESS) throw new InputError('FROM_ADDRESS is not set on the server', 'to');
      ses ??= SesTransport.fromConfig(config);
      const copies = await sendTestCopies({ config, ses, redis }, campaign, to);
      logger?.info({ campaignId: campaign.id, copies: copies.length }, 'test copies sent');
      return copies.map((c) => c.email);
    },

    async close() {
      ses?.destroy();
    },
  };
}
