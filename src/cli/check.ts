import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { compileOptionsFrom } from './render-options.js';

/** One problem as `check --json` prints it (CI annotations: file, line, column). */
export interface CheckJsonDiagnostic {
  file: string;
  /** 1-based; null when the problem is the whole file. */
  line: number | null;
  /** Diagnostics are per line; always null for now (annotations then mark the whole line). */
  column: null;
  severity: 'error' | 'warning';
  message: string;
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('preflight issue files: exit 1 on errors; every problem on stderr as file:line (or all of them as JSON on stdout with --json)')
    .argument('<files...>', 'Markdown issue files')
    .option('--json', 'print one JSON array of {file, line, column, severity, message} on stdout (nothing else); exit codes as without')
    .action(async (files: string[], opts: { json?: boolean }) => {
      const { checkIssueFile } = await import('../render/check-issue.js');
      const compileOptions = compileOptionsFrom(loadConfig());
      let failed = false;
      const all: CheckJsonDiagnostic[] = [];
      for (const file of files) {
        const diagnostics = await checkIssueFile(file, compileOptions);
        const errors = diagnostics.filter((d) => d.severity === 'error').length;
        const warnings = diagnostics.length - errors;
        if (errors > 0) failed = true;
        if (opts.json) {
          for (const d of diagnostics) all.push({ file: d.file ?? file, line: d.line ?? null, column: null, severity: d.severity, message: d.message });
          continue;
        }
        for (const d of diagnostics) console.error(`${d.file ?? file}${d.line ? `:${d.line}` : ''}: ${d.severity}: ${d.message}`);
        console.log(errors + warnings === 0 ? `${file}: ok` : `${file}: ${errors} error(s), ${warnings} warning(s)`);
      }
      if (opts.json) console.log(JSON.stringify(all, null, 2));
      if (failed) process.exitCode = 1;
    });
}
