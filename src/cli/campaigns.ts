/** `campaigns list|show|stats|pause|resume|cancel|test`: thin wrappers over the orchestrator. */
import type { Command } from 'commander';
import { loadConfig, requireConfig } from '../config.js';
import { InputError } from '../errors.js';
import { describePause } from '../campaigns/pause-reason.js';
import { CLI_ACTOR, describeActivity } from '../campaigns/campaign-activity.js';
import type { SendContext } from '../campaigns/send-context.js';

function parseId(value: string): number {
  if (!/^\d+$/.test(value)) throw new InputError(`campaign id must be a number, got "${value}"`);
  return Number(value);
}

async function withContext<T>(fn: (ctx: SendContext) => Promise<T>): Promise<T> {
  const { openSendContext } = await import('../campaigns/send-context.js');
  const ctx = await openSendContext(loadConfig());
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

export function formatStats(s: Awaited<ReturnType<SendContext['orchestrator']['stats']>>): string {
  const lines = [
    `campaign ${s.id}: ${s.status}${s.paused_reason ? ` (${s.paused_reason})` : ''}`,
    `  total ${s.total}  queued ${s.queued}  sent ${s.sent}  failed ${s.failed}  uncertain ${s.uncertain}`,
    `  delivered ${s.delivered}  bounced ${s.bounced}  complained ${s.complained}  unsubscribed ${s.unsubscribed}  cancelled ${s.cancelled}`,
    `  opened ${s.opened}  clicked ${s.clicked}  rate ${s.rate_per_s}/s`,
    `  human: opened ${s.opened_human}  clicked ${s.clicked_human}  click-to-open ${(s.click_to_open_human * 100).toFixed(1)}%`,
    `  machine: opened ${s.opened_machine}  clicked ${s.clicked_machine}   unknown: opened ${s.opened_unknown}  clicked ${s.clicked_unknown}`,
    `  started ${s.started_at ?? '-'}  finished ${s.finished_at ?? '-'}${s.eta ? `  eta ${s.eta}` : ''}`,
    ...(s.canary_text ? [`  ${s.canary_text}`] : []),
  ];
  for (const [name, p] of Object.entries(s.providers)) {
    if (!p) continue;
    lines.push(
      `  provider ${name}: sent ${p.sent}  bounced ${p.bounced} (${(p.bounce_rate * 100).toFixed(2)}%)  complained ${p.complained}  deferred ${p.deferred}${p.top_status ? `  top status ${p.top_status}` : ''}`,
    );
  }
  return lines.join('\n');
}

export function registerCampaigns(program: Command): void {
  const campaigns = program.command('campaigns').description('List and control campaigns');

  campaigns
    .command('list')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      withContext(async (ctx) => {
        const rows = await ctx.campaigns.list();
        const out = rows.map((c) => ({
          id: c.id,
          status: c.status,
          subject: c.subject,
          total: c.total,
          scheduled_at: c.scheduled_at ? new Date(c.scheduled_at).toISOString() : null,
          started_at: c.started_at ? new Date(c.started_at).toISOString() : null,
          finished_at: c.finished_at ? new Date(c.finished_at).toISOString() : null,
          pause_code: c.paused_reason,
          paused_reason: describePause(c.paused_reason, c.paused_note),
        }));
        if (opts.json) console.log(JSON.stringify(out, null, 2));
        else for (const c of out) console.log(`${c.id}\t${c.status}\t${c.total}\t${c.subject}`);
      }),
    );

  for (const name of ['show', 'stats'] as const) {
    campaigns
      .command(`${name} <id>`)
      .option('--json', 'print JSON')
      .action((id: string, opts: { json?: boolean }) =>
        withContext(async (ctx) => {
          const stats = await ctx.orchestrator.stats(parseId(id));
          if (name === 'show') {
            const c = await ctx.orchestrator.get(parseId(id));
            const activity = await ctx.orchestrator.activity(parseId(id));
            const show = { ...stats, subject: c.subject, list_id: c.list_id, issue_title: c.issue_title, source_path: c.source_path,
              scheduled_at: c.scheduled_at ? new Date(c.scheduled_at).toISOString() : null,
              activity: activity.map((e) => ({ ...e, at: new Date(e.at).toISOString() })) };
            const log = activity.length === 0 ? '  (no activity recorded)' : activity.map((e) => `  ${describeActivity(e)}`).join('\n');
            console.log(opts.json ? JSON.stringify(show, null, 2) : `${formatStats(stats)}\n  subject: ${c.subject}\nactivity:\n${log}`);
          } else {
            console.log(opts.json ? JSON.stringify(stats, null, 2) : formatStats(stats));
          }
        }),
      );
  }

  campaigns
    .command('pause <id>')
    .action((id: string) =>
      withContext(async (ctx) => {
        await ctx.orchestrator.pauseByEditor(parseId(id), CLI_ACTOR);
        console.log(`campaign ${id} paused`);
      }),
    );

  campaigns
    .command('resume <id>')
    .description('resume a paused campaign, or confirm a scheduled one whose time passed while the system was down')
    .action((id: string) =>
      withContext(async (ctx) => {
        const ok = await ctx.orchestrator.resume(parseId(id), { actor: CLI_ACTOR });
        console.log(ok ? `campaign ${id} sending` : `campaign ${id} was not resumed (its state changed meanwhile)`);
      }),
    );

  campaigns
    .command('test <id>')
    .description('send one copy of the campaign to an address (outside the ledger, within the global SES rate)')
    .requiredOption('--to <email>', 'recipient')
    .action((id: string, opts: { to: string }) =>
      withContext(async (ctx) => {
        const config = requireConfig(loadConfig(), ['FROM_ADDRESS', 'UNSUBSCRIBE_SECRET'], 'campaigns test');
        const c = await ctx.orchestrator.get(parseId(id));
        if (!/^[^\s@<>]+@[^\s@<>]+$/.test(opts.to)) throw new InputError(`--to "${opts.to}" is not an email address`);
        // The context's root owns (and closes) the SES transport and the Redis connection.
        const { sendTestCopies } = await import('../campaigns/test-send.js');
        const [copy] = await sendTestCopies({ config, ses: ctx.root.ses(), redis: await ctx.root.redis() }, c, [opts.to]);
        await ctx.orchestrator.recordTest(c.id, CLI_ACTOR, [opts.to]);
        console.log(`test copy of campaign ${id} sent to ${opts.to} (SES message id ${copy!.messageId})`);
      }),
    );

  campaigns
    .command('cancel <id>')
    .action((id: string) =>
      withContext(async (ctx) => {
        const { unsent } = await ctx.orchestrator.cancel(parseId(id), CLI_ACTOR);
        console.log(`campaign ${id} cancelled; ${unsent} subscriber(s) will not receive it`);
      }),
    );
}
