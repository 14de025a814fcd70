// Preloaded into a child process (`node --import ./test/support/report-peak-rss.mjs …`): at exit,
// print the process's own peak resident set size, so a test can bound a CLI command's memory.
import process from 'node:process';

process.on('exit', () => {
  process.stdout.write(`\npeak-rss-kb=${process.resourceUsage().maxRSS}\n`);
});
