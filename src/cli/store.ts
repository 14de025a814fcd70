/** `store prune [--dry-run] [--days N] [--json]`: retention by hand (src/campaigns/ledger-retention.ts). */
import type { Command } from 'commander';
import { loadConfig, uncertainAfterMs } from '../config.js';
import { ConfigError, InputError } from '../errors.js';

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

export function registerStore(program: Command): void {
  const store = program.command('store').description('Database maintenance');
  store
    .command('prune')
    .description('drop per-recipient ledger and event rows of campaigns finished more than LEDGER_RETENTION_DAYS ago (totals, clicks per link and suppressions are kept)')
    .option('--dry-run', 'say what would be removed, per campaign, and remove nothing')
    .option('--days <n>', 'retention in days (default LEDGER_RETENTION_DAYS)')
    .option('--json', 'print JSON')
    .action(async (opts: { dryRun?: boolean; days?: string; json?: boolean }) => {
      const config = loadConfig();
      let days = config.LEDGER_RETENTION_DAYS;
      if (opts.days !== undefined) {
        days = Number(opts.days);
        if (!Number.isFinite(days) || days <= 0) throw new InputError(`--days must be a positive number of days, got "${opts.days}"`);
      }
      if (days === undefined) throw new ConfigError('retention is off: set LEDGER_RETENTION_DAYS (or pass --days N)');
      const [{ openCompositionRoot }, { LedgerRetention }] = await Promise.all([import('../composition-root.js'), import('../campaigns/ledger-retention.js')]);
      const root = openCompositionRoot(config);
      try {
        const repos = await root.repositories();
        const retention = new LedgerRetention(repos.retention, { retentionDays: days, snsMaxAgeS: config.SNS_MAX_AGE_S, uncertainAfterMs: uncertainAfterMs(config) });
        if (opts.dryRun) {
          const plan = await retention.plan();
          if (opts.json) {
            console.log(JSON.stringify({ dry_run: true, retention_days: days, campaigns: plan.map((p) => ({ id: p.id, status: p.status, subject: p.subject, finished_at: new Date(p.finishedAt).toISOString(), ledger_rows: p.ledgerRows, events: p.events, links: p.links })) }, null, 2));
            return;
          }
          if (plan.length === 0) console.log(`nothing to prune: no sent or cancelled campaign finished more than ${days} days ago still has per-recipient rows`);
          for (const p of plan) {
            console.log(
              `campaign ${p.id} (${p.status}, finished ${iso(p.finishedAt)}, "${p.subject}"): would remove ${p.ledgerRows} ledger rows and ${p.events} events; ` +
                `would keep its totals, clicks per link (${p.links} links), bounce and complaint events and every suppression`,
            );
          }
          return;
        }
        const done = await retention.prune({
          onCampaign: (p) => {
            if (!opts.json) console.log(`campaign ${p.id}: removed ${p.ledgerRows} ledger rows and ${p.events} events in ${p.batches} batches`);
          },
        });
        if (opts.json) console.log(JSON.stringify({ dry_run: false, retention_days: days, campaigns: done.map((p) => ({ id: p.id, ledger_rows: p.ledgerRows, events: p.events, batches: p.batches })) }, null, 2));
        else if (done.length === 0) console.log('nothing to prune');
      } finally {
        await root.close();
      }
    });
}
