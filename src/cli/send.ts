/**
 * `send FILE --list NAME [--at ISO] [--canary P%] [--wait] [--json]`: create a campaign from an
 * issue and start (or schedule) it; `--canary` sends a first wave to P% of the audience and
 * holds the rest for CANARY_WAIT_MIN (src/campaigns/canary-wave.ts). `--json` prints the stats object (`id`, `status`, …).
 */
import type { Command } from 'commander';
import { loadConfig, requireConfig } from '../config.js';
import { InputError, StateError, UnavailableError } from '../errors.js';
import { isStoreUnavailable, storeErrorText } from '../store/store-errors.js';
import type { SendContext } from '../campaigns/send-context.js';
import { formatStats } from './campaigns.js';
import { CLI_ACTOR } from '../campaigns/campaign-activity.js';
import { parseCanaryPercent } from '../campaigns/canary-wave.js';

export function registerSend(program: Command): void {
  program
    .command('send <file>')
    .description('send an issue to a list (a running `worker` does the sending)')
    .option('--list <name>', 'list to send to', 'default')
    .option('--at <iso>', 'schedule the send for this time (ISO 8601)')
    .option('--canary <percent>', 'send to this share of the list first (e.g. 5%), then hold the rest for CANARY_WAIT_MIN; 0 = none (default CANARY_PERCENT)')
    .option('--wait', 'wait until the campaign is done, showing progress')
    .option('--json', 'print the campaign stats as JSON')
    .action(async (file: string, opts: { list: string; at?: string; canary?: string; wait?: boolean; json?: boolean }) => {
      const config = requireConfig(loadConfig(), ['FROM_ADDRESS', 'UNSUBSCRIBE_SECRET'], 'send');
      let at: Date | undefined;
      if (opts.at !== undefined) {
        at = new Date(opts.at);
        if (Number.isNaN(at.getTime())) throw new InputError(`--at "${opts.at}" is not an ISO 8601 date-time`);
      }
      let canaryPercent: number | undefined;
      if (opts.canary !== undefined) {
        try {
          canaryPercent = parseCanaryPercent(opts.canary);
        } catch (err) {
          throw new InputError(`--canary: ${(err as Error).message}`);
        }
      }
      const [{ openSendContext }, { createCampaignFromFile }] = await Promise.all([import('../campaigns/send-context.js'), import('../campaigns/prepare-campaign.js')]);
      const ctx = await openSendContext(config);
      try {
        // Created as a draft, then scheduled or started by the orchestrator, like the API's send.
        const { campaign, warnings } = await createCampaignFromFile(ctx, config, { file, listName: opts.list });
        for (const w of warnings) console.error(`warning: ${file}: ${w}`);
        if (at) {
          if (!(await ctx.orchestrator.schedule(campaign.id, at, CLI_ACTOR, { canaryPercent }))) throw new StateError(`campaign ${campaign.id} changed state meanwhile; not scheduled`);
          console.error(`campaign ${campaign.id} scheduled for ${at.toISOString()}`);
        } else {
          await ctx.orchestrator.start(campaign.id, CLI_ACTOR, { canaryPercent });
          console.error(`campaign ${campaign.id} sending`);
        }
        if (opts.wait) {
          const done = await waitForCampaign(ctx, campaign.id, !opts.json && process.stderr.isTTY === true).catch((err: unknown) => {
            if (!isStoreUnavailable(err)) throw err;
            // The campaign is started: the workers carry on (and survive the outage); only this wait ends.
            throw new UnavailableError(
              `lost the database while waiting for campaign ${campaign.id} (${storeErrorText(err)}); the workers go on sending it: follow it with \`newsletter campaigns stats ${campaign.id}\``,
              { cause: err },
            );
          });
          if (done.failed > 0 || done.status === 'paused') process.exitCode = 1;
        }
        const stats = await ctx.orchestrator.stats(campaign.id);
        console.log(opts.json ? JSON.stringify(stats, null, 2) : formatStats(stats));
      } finally {
        await ctx.close();
      }
    });
}

async function waitForCampaign(ctx: SendContext, id: number, progress: boolean) {
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = progress ? new SingleBar({ format: 'sending [{bar}] {value}/{total} {rate}/s eta {eta}s', etaBuffer: 50 }, Presets.shades_classic) : null;
  let started = false;
  for (;;) {
    const s = await ctx.orchestrator.stats(id);
    if (bar) {
      const done = s.total - s.queued;
      if (!started) {
        bar.start(s.total, done, { rate: s.rate_per_s });
        started = true;
      } else bar.update(done, { rate: s.rate_per_s });
    }
    // A canary that failed its check holds the rest until an editor resumes: nothing more to wait for.
    if (s.status === 'sent' || s.status === 'cancelled' || (s.status === 'paused' && s.pause_code === 'canary')) {
      bar?.stop();
      if (s.status === 'paused') console.error(`campaign ${id} paused: ${s.paused_reason}`);
      return s;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
