import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { campaignMessageOptions } from '../campaigns/campaign-message.js';
import { loadConfig } from '../config.js';
import { InputError } from '../errors.js';
import { parseIssueFile } from '../issue/parse-issue.js';
import { compileIssueDetailed } from '../render/compile-issue.js';
import { assertEmailAddress } from '../render/mime.js';
import { prepareMessages } from '../render/prepare-messages.js';
import { renderForRecipient } from '../render/preview.js';
import { compileOptionsFrom, renderSender, resolveRenderRecipient } from './render-options.js';

const FORMATS = { html: 'html', text: 'txt', mjml: 'mjml', eml: 'eml', json: 'json' } as const;
type Format = keyof typeof FORMATS;

export function registerRender(program: Command): void {
  program
    .command('render')
    .description('compile issue files; one file to stdout, several into --out-dir as <name>.<ext>')
    .argument('<files...>', 'Markdown issue files')
    .option('--format <format>', 'html | text | mjml | eml | json', 'html')
    .option('--out-dir <dir>', 'write <name>.<ext> files here instead of stdout')
    .option('--to <email>', 'recipient of the eml (and of the personalized html/text): a subscriber of --list gets their own message; other addresses a sample')
    .option('--list <name>', 'the list the --to subscriber is on', 'default')
    .action(async (files: string[], opts: { format: string; outDir?: string; to?: string; list: string }) => {
      if (!(opts.format in FORMATS)) throw new InputError(`unknown --format ${opts.format} (html, text, mjml, eml, json)`);
      const format = opts.format as Format;
      if (files.length > 1 && !opts.outDir) throw new InputError('several files need --out-dir');
      const config = loadConfig();
      const to = opts.to === undefined ? undefined : assertEmailAddress(opts.to, '--to address');
      // Only the personalized formats look the address up (json and mjml have no recipient).
      const personalized = format === 'eml' || format === 'html' || format === 'text';
      const { listId, recipient, sampleBecause } = await resolveRenderRecipient(config, personalized ? to : undefined, opts.list);
      if (sampleBecause) console.error(`newsletter: ${sampleBecause}: showing a sample recipient with ${to}'s address (no real unsubscribe link)`);
      const sender = renderSender(config);
      const compileOptions = compileOptionsFrom(config);
      if (opts.outDir) mkdirSync(opts.outDir, { recursive: true });

      for (const file of files) {
        try {
          const result = await compileIssueDetailed(parseIssueFile(file, { siteUrl: compileOptions.siteUrl }), compileOptions);
          const problems = result.diagnostics.length;
          if (problems > 0) console.error(`${file}: ${problems} problem(s); run \`newsletter check ${file}\` for details`);
          let output: string | Buffer;
          if (format === 'json') output = `${JSON.stringify(result.compiled, null, 2)}\n`;
          else if (format === 'mjml') output = result.mjmlTemplate;
          else {
            // The options a send of this issue to the list would use (no campaign yet: id 0).
            const options = campaignMessageOptions({ campaignId: 0, listId, issueSlug: result.compiled.meta.slug }, sender);
            if (format === 'eml') output = prepareMessages(result.compiled, options).build(recipient).raw;
            else {
              const rendered = renderForRecipient(result.compiled, recipient, options.archiveUrl);
              output = format === 'html' ? rendered.html : rendered.text;
            }
          }
          if (opts.outDir) {
            const target = join(opts.outDir, `${basename(file).replace(/\.(md|markdown)$/i, '')}.${FORMATS[format]}`);
            writeFileSync(target, output);
            console.log(target);
          } else {
            process.stdout.write(output);
          }
        } catch (err) {
          if (!(err instanceof InputError)) throw err;
          console.error(`newsletter: ${err.message}`);
          process.exitCode = 1;
        }
      }
    });
}
