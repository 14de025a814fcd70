import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { campaignMessageOptions } from '../campaigns/campaign-message.js';
import { loadConfig } from '../config.js';
import { InputError } from '../errors.js';
import { assertEmailAddress } from '../render/mime.js';
import { compileOptionsFrom, renderSender, resolveRenderRecipient } from './render-options.js';
import { openScreenshotter, type Screenshotter } from './render-screenshot.js';

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
    .option('--screenshot', 'also write <name>-600.png and <name>-375.png (full height, the reader\'s HTML) into --out-dir, with Chromium (CHROMIUM_PATH, default /usr/bin/chromium)')
    .action(async (files: string[], opts: { format: string; outDir?: string; to?: string; list: string; screenshot?: boolean }) => {
      if (!(opts.format in FORMATS)) throw new InputError(`unknown --format ${opts.format} (html, text, mjml, eml, json)`);
      const format = opts.format as Format;
      if (files.length > 1 && !opts.outDir) throw new InputError('several files need --out-dir');
      if (opts.screenshot && !opts.outDir) throw new InputError('--screenshot needs --out-dir (where the PNGs go)');
      const [{ parseIssueFile }, { compileIssueDetailed }, { prepareMessages }, { renderForRecipient }] = await Promise.all([
        import('../issue/parse-issue.js'),
        import('../render/compile-issue.js'),
        import('../render/prepare-messages.js'),
        import('../render/preview.js'),
      ]);
      const config = loadConfig();
      const to = opts.to === undefined ? undefined : assertEmailAddress(opts.to, '--to address');
      // Only the personalized formats look the address up (json and mjml have no recipient).
      const personalized = format === 'eml' || format === 'html' || format === 'text';
      const { listId, recipient, sampleBecause } = await resolveRenderRecipient(config, personalized ? to : undefined, opts.list);
      if (sampleBecause) console.error(`newsletter: ${sampleBecause}: showing a sample recipient with ${to}'s address (no real unsubscribe link)`);
      const sender = renderSender(config);
      const compileOptions = compileOptionsFrom(config);
      if (opts.outDir) mkdirSync(opts.outDir, { recursive: true });
      const screenshots: Screenshotter | null = opts.screenshot ? await openScreenshotter() : null;

      try {
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
            if (screenshots && opts.outDir) {
              // The HTML this recipient gets, whatever --format wrote.
              const options = campaignMessageOptions({ campaignId: 0, listId, issueSlug: result.compiled.meta.slug }, sender);
              const { html } = renderForRecipient(result.compiled, recipient, options.archiveUrl);
              const base = join(opts.outDir, basename(file).replace(/\.(md|markdown)$/i, ''));
              for (const png of await screenshots.shoot(html, base)) console.log(png);
            }
          } catch (err) {
            if (!(err instanceof InputError)) throw err;
            console.error(`newsletter: ${err.message}`);
            process.exitCode = 1;
          }
        }
      } finally {
        await screenshots?.close();
      }
    });
}
