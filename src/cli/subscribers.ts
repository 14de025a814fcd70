import { createReadStream, statSync, type ReadStream } from 'node:fs';
import { once } from 'node:events';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { InputError, NotFoundError } from '../errors.js';
import type { Store } from '../store/db.js';
import type { CompositionRoot } from '../composition-root.js';
import type { StoreRepositories } from '../store/repositories.js';
import { importSubscribersCsv } from '../subscribers/csv-import.js';
import { parseCsvEncoding } from '../subscribers/text-encoding.js';
import { exportSubscribersCsv } from '../subscribers/csv-export.js';
import { inactiveSubscribers } from '../subscribers/list-hygiene.js';
import { addSubscriber, removeSubscriber, showSubscriber, unsubscribeByEmail, type SubscriberView } from '../subscribers/subscriber-service.js';

const DEFAULT_LIST = 'default';

async function inviteFromCli(email: string, opts: { name?: string; list: string }): Promise<void> {
  await withRepositories(async (_repos, store, root) => {
    const { config } = root;
    const { inviteSubscriber } = await import('../signup/invite.js');
    const outcome = await inviteSubscriber(config, store, await root.redis(), { email, name: opts.name, listName: opts.list });
    console.log(
      outcome === 'requested'
        ? `confirmation email queued for ${email.trim().toLowerCase()} (list ${opts.list}; the link works for ${config.PENDING_EXPIRY_H} h; a worker sends it)`
        : `${email.trim().toLowerCase()} is already subscribed to ${opts.list}; nothing sent`,
    );
  });
}

async function withRepositories<T>(fn: (repos: StoreRepositories, store: Store, root: CompositionRoot) => Promise<T>): Promise<T> {
  const [{ openCompositionRoot }, { openRepositories }] = await Promise.all([import('../composition-root.js'), import('../store/repositories.js')]);
  const root = openCompositionRoot(loadConfig());
  try {
    const store = await root.store();
    return await fn(openRepositories(store), store, root);
  } finally {
    await root.close();
  }
}

export function registerSubscribers(program: Command): void {
  const group = program.command('subscribers').description('manage subscribers and lists');

  group
    .command('add')
    .argument('<email>')
    .description('add a subscriber to a list (never resubscribes someone who left or is suppressed)')
    .option('--name <name>', 'display name')
    .option('--list <name>', 'list name', DEFAULT_LIST)
    .option('--double-opt-in', 'send a confirmation email instead; the address joins the list when it confirms')
    .action(async (email: string, opts: { name?: string; list: string; doubleOptIn?: boolean }) => {
      if (opts.doubleOptIn) return inviteFromCli(email, opts);
      await withRepositories(async (repos) => {
        const { view, created, addedToList } = await addSubscriber(repos, { email, name: opts.name, listName: opts.list });
        const what = created ? 'added' : 'updated';
        const membership = view.lists.find((l) => l.name === opts.list.trim());
        const note = addedToList ? `to list ${opts.list}` : `(already on list ${opts.list}: ${membership?.status ?? '?'})`;
        console.log(`${what} ${view.email} ${note}; status ${view.status}`);
      });
    });

  group
    .command('import')
    .argument('<file>', 'CSV file with a header row: email, optional name, other columns become attributes')
    .description('import subscribers from CSV; bad rows are reported by line on stderr and skipped')
    .option('--list <name>', 'list name', DEFAULT_LIST)
    .option('--encoding <name>', 'the file\'s encoding: utf8 or latin1 (a file that is not valid UTF-8 is refused otherwise)', 'utf8')
    .action(async (file: string, opts: { list: string; encoding: string }) => {
      const encoding = parseCsvEncoding(opts.encoding, '--encoding');
      const input = await openFile(file);
      await withRepositories(async (repos) => {
        // Created once the header has proved valid: a refused file leaves no empty list behind.
        let listName = opts.list;
        const listId = async () => {
          const list = await repos.lists.ensureList(opts.list);
          listName = list.name;
          return list.id;
        };
        const progress = createProgress(input, file);
        // Every bad row is printed as it is found, through a small buffer, never all kept.
        const errors = bufferedLines(process.stderr);
        let report;
        try {
          report = await importSubscribersCsv(repos.subscriberImport, input, {
            listId,
            encoding,
            source: file,
            onProgress: progress.update,
            onRowError: (e) => errors.write(`${file}:${e.line}: ${e.message}\n`),
          });
        } finally {
          errors.flush();
          progress.stop();
        }
        console.log(
          `${file}: ${report.rows} rows: ${report.imported} imported, ${report.updated} updated, ` +
            `${report.skipped} skipped (${report.bad} bad, ${report.suppressed} suppressed) into list ${listName}`,
        );
        if (report.bad > 0) process.exitCode = 1;
      });
    });

  group
    .command('export')
    .description('write a list as CSV to stdout (email, name, attributes, status, list_status, created_at)')
    .option('--list <name>', 'list name', DEFAULT_LIST)
    .action(async (opts: { list: string }) => {
      await withRepositories(async (repos) => {
        const list = await repos.lists.findByName(opts.list);
        if (!list) throw new NotFoundError(`list "${opts.list}"`);
        // `export | head`: a closed pipe ends the export quietly instead of with a stack trace.
        process.stdout.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code === 'EPIPE') process.exit(0);
          throw err;
        });
        await exportSubscribersCsv(repos.subscribers, list.id, process.stdout);
      });
    });

  group
    .command('show')
    .argument('<email>')
    .description('show one subscriber: status, lists, attributes')
    .option('--json', 'print one JSON object')
    .action(async (email: string, opts: { json?: boolean }) => {
      await withRepositories(async (repos) => {
        const view = await showSubscriber(repos, email);
        console.log(opts.json ? JSON.stringify(view, null, 2) : formatView(view));
      });
    });

  group
    .command('inactive')
    .description('list subscribers with no human open or click in the last N sent issues (Apple MPP opens and scanner clicks do not count); --suppress sets them aside as "sunset"')
    .requiredOption('--issues <n>', 'how many of the list\'s last sent issues to look at')
    .option('--list <name>', 'list name', DEFAULT_LIST)
    .option('--suppress', 'move them to status sunset: no longer mailed until they press "Keep sending it to me" on any past email\'s unsubscribe page, or sign up again')
    .option('--json', 'print one JSON object')
    .action(async (opts: { issues: string; list: string; suppress?: boolean; json?: boolean }) => {
      if (!/^\d+$/.test(opts.issues)) throw new InputError(`--issues must be a whole number, not "${opts.issues}"`);
      await withRepositories(async (repos) => {
        const report = await inactiveSubscribers(repos, { list: opts.list, issues: Number(opts.issues), suppress: opts.suppress });
        if (opts.json) {
          console.log(
            JSON.stringify(
              {
                list: report.list,
                issues: report.issues.map((i) => ({ id: i.id, subject: i.subject, started_at: i.startedAt === null ? null : new Date(i.startedAt).toISOString() })),
                inactive: report.inactive.map((x) => ({ email: x.email, name: x.name })),
                count: report.inactive.length,
                sunset: report.sunset,
              },
              null,
              2,
            ),
          );
          return;
        }
        for (const x of report.inactive) console.log(x.name ? `${x.email}\t${x.name}` : x.email);
        const judged =
          report.issues.length < Number(opts.issues)
            ? `list ${report.list} has sent only ${report.issues.length} issue(s); nobody is judged on fewer than ${opts.issues}`
            : `${report.inactive.length} subscriber(s) of list ${report.list} with no human open or click in the last ${opts.issues} issues`;
        console.error(opts.suppress ? `${judged}; ${report.sunset} moved to sunset` : judged);
      });
    });

  group
    .command('unsubscribe')
    .argument('<email>')
    .description('unsubscribe from a list (the subscriber is then mailed by no list)')
    .option('--list <name>', 'list name', DEFAULT_LIST)
    .action(async (email: string, opts: { list: string }) => {
      await withRepositories(async (repos) => {
        const view = await unsubscribeByEmail(repos, email, opts.list);
        console.log(`unsubscribed ${view.email} from list ${opts.list}; status ${view.status}`);
      });
    });

  group
    .command('remove')
    .argument('<email>')
    .description('delete personal data; the address stays suppressed so it is never mailed again')
    .action(async (email: string) => {
      await withRepositories(async (repos) => {
        const existed = await removeSubscriber(repos, email);
        const normalised = email.trim().toLowerCase();
        console.log(existed ? `removed ${normalised}; address suppressed` : `no subscriber ${normalised}; address suppressed`);
      });
    });
}

async function openFile(file: string): Promise<ReadStream> {
  const stream = createReadStream(file);
  try {
    await once(stream, 'open');
  } catch (err) {
    throw new InputError(`cannot read ${file}: ${(err as Error).message}`);
  }
  return stream;
}

/**
 * Lines written to `out` in blocks of about 64 KB (one write per line would cost a system
 * call each, which dominates when a file has millions of bad rows). A block the stream
 * cannot take at once is waited for: a slow reader of stderr slows the import down
 * instead of piling the report up in memory.
 */
function bufferedLines(out: NodeJS.WriteStream): { write: (line: string) => Promise<void> | undefined; flush: () => void } {
  let pending: string[] = [];
  let size = 0;
  const flush = (): boolean => {
    if (pending.length === 0) return true;
    const block = pending.join('');
    pending = [];
    size = 0;
    return out.write(block);
  };
  return {
    write: (line) => {
      pending.push(line);
      size += line.length;
      if (size < 64 * 1024 || flush()) return undefined;
      return once(out, 'drain').then(() => undefined);
    },
    flush: () => void flush(),
  };
}

/** A progress bar (by bytes read) on a terminal; a plain line every 10,000 rows otherwise. */
function createProgress(input: ReadStream, file: string): { update: (rows: number) => void; stop: () => void } {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${file} [{bar}] {percentage}% | {rows} rows | {duration}s`, stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    const total = Math.max(1, statSync(file).size);
    bar.start(total, 0, { rows: 0 });
    return {
      update: (rows) => bar.update(input.bytesRead, { rows }),
      stop: () => {
        bar.update(total);
        bar.stop();
      },
    };
  }
  let next = 10_000;
  return {
    update: (rows) => {
      if (rows >= next) {
        console.error(`${file}: ${rows} rows processed`);
        next = rows - (rows % 10_000) + 10_000;
      }
    },
    stop: () => undefined,
  };
}

function formatView(view: SubscriberView): string {
  const lines = [
    `email:      ${view.email}`,
    `name:       ${view.name ?? ''}`,
    `status:     ${view.status}${view.status_reason ? ` (${view.status_reason})` : ''}`,
    `lists:      ${view.lists.map((l) => `${l.name} (${l.status})`).join(', ') || '(none)'}`,
  ];
  if (view.suppressed) lines.push(`suppressed: ${view.suppressed}`);
  const attrs = Object.entries(view.attributes);
  if (attrs.length) lines.push(`attributes: ${attrs.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ')}`);
  lines.push(`created:    ${view.created_at}`);
  return lines.join('\n');
}
