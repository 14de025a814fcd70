import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { checkIssueFile } from '../render/check-issue.js';
import { compileOptionsFrom } from './render-options.js';

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('preflight issue files: exit 1 on errors; every problem on stderr as file:line')
    .argument('<files...>', 'Markdown issue files')
    .action(async (files: string[]) => {
      const compileOptions = compileOptionsFrom(loadConfig());
      let failed = false;
      for (const file of files) {
        const diagnostics = await checkIssueFile(file, compileOptions);
        for (const d of diagnostics) console.error(`${d.file ?? file}${d.line ? `:${d.line}` : ''}: ${d.severity}: ${d.message}`);
        const errors = diagnostics.filter((d) => d.severity === 'error').length;
        const warnings = diagnostics.length - errors;
        console.log(errors + warnings === 0 ? `${file}: ok` : `${file}: ${errors} error(s), ${warnings} warning(s)`);
        if (errors > 0) failed = true;
      }
      if (failed) process.exitCode = 1;
    });
}
