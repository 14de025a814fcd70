/**
 * `tokens create --role editor|admin [--name N] [--json]`, `tokens list`, `tokens revoke ID`.
 * The token is printed once; only its sha256 is stored.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { InputError, NotFoundError } from '../errors.js';
import type { ApiTokensRepository } from '../store/api-tokens-repository.js';
import { openStore } from '../store/db.js';
import { openRepositories } from '../store/repositories.js';
import type { TokenRole } from '../store/schema.js';

async function withTokens<T>(fn: (repo: ApiTokensRepository) => Promise<T>): Promise<T> {
  const store = await openStore(loadConfig().DATABASE_URL);
  try {
    return await fn(openRepositories(store).apiTokens);
  } finally {
    await store.destroy();
  }
}

export function registerTokens(program: Command): void {
  const tokens = program.command('tokens').description('API and dashboard tokens');

  tokens
    .command('create')
    .description('create a token and print it once (it cannot be shown again)')
    .requiredOption('--role <role>', 'editor (create, test, send, pause campaigns; manage subscribers) or admin (everything, dashboard)')
    .option('--name <name>', 'who or what the token is for', '')
    .option('--json', 'print {id, name, role, token}')
    .action((opts: { role: string; name: string; json?: boolean }) =>
      withTokens(async (repo) => {
        if (opts.role !== 'editor' && opts.role !== 'admin') throw new InputError(`--role must be editor or admin, got "${opts.role}"`);
        const name = opts.name.trim() || `${opts.role} token`;
        if (name.length > 100 || /[\r\n]/.test(name)) throw new InputError('--name must be one line of at most 100 characters');
        const created = await repo.create(opts.role as TokenRole, name);
        if (opts.json) {
          console.log(JSON.stringify(created));
        } else {
          console.error(`created ${created.role} token #${created.id} "${created.name}"; store it now, it is not shown again:`);
          console.log(created.token);
        }
      }),
    );

  tokens
    .command('list')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      withTokens(async (repo) => {
        const rows = (await repo.list()).map((t) => ({
          id: t.id,
          name: t.name,
          role: t.role,
          created_at: new Date(t.created_at).toISOString(),
          last_used_at: t.last_used_at ? new Date(t.last_used_at).toISOString() : null,
        }));
        if (opts.json) console.log(JSON.stringify(rows, null, 2));
        else for (const t of rows) console.log(`${t.id}\t${t.role}\t${t.name}\tlast used ${t.last_used_at ?? 'never'}`);
      }),
    );

  tokens
    .command('revoke <id>')
    .action((id: string) =>
      withTokens(async (repo) => {
        if (!/^\d+$/.test(id)) throw new InputError(`token id must be a number, got "${id}"`);
        if (!(await repo.revoke(Number(id)))) throw new NotFoundError(`token ${id}`);
        console.log(`token ${id} revoked`);
      }),
    );
}
