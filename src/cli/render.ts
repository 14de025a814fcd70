import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { InputError } from '../errors.js';
import { parseIssueFile } from '../issue/parse-issue.js';
import { compileIssueDetailed } from '../render/compile-issue.js';
import { assertEmailAddress } from '../render/mime.js';
import { prepareMessages } from '../render/prepare-messages.js';
import { renderForRecipient } from '../render/preview.js';
import { compileOptionsFrom, previewMessageOptions, sampleRecipient } from './render-options.js';

const FORMATS = { html: 'html', text: 'txt', mjml: 'mjml', eml: 'eml', json: 'json' } as const;
type Format = keyof typeof FORMATS;

export function registerRender(program: Command): void {
  program
    .command('render')
    .description('compile issue files; one file to stdout, several into --out-dir as <name>.<ext>')
    .argument('<files...>', 'Markdown issue files')
    .option('--format <format>', 'html | text | mjml | eml | json', 'html')
    .option('--out-dir <dir>', 'write <name>.<ext> files here instead of stdout')
    .option('--to <email>', 'recipient of the eml (and of the personalized html/text)', 'subscriber@example.com')
    .action(async (files: string[], opts: { format: string; outDir?: string; to: string }) => {
      if (!(opts.format in FORMATS)) throw new InputError(`unknown --format ${opts.format} (html, text, mjml, eml, json)`);
      const format = opts.format as Format;
      if (files.length > 1 && !opts.outDir) throw new InputError('several files need --out-dir');
      const config = loadConfig();
      const recipient = sampleRecipient(config, assertEmailAddress(opts.to, '--to address'));
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
          else if (format === 'eml') output = prepareMessages(result.compiled, previewMessageOptions(config)).build(recipient).raw;
          else {
            const rendered = renderForRecipient(result.compiled, recipient);
            output = format === 'html' ? rendered.html : rendered.text;
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
