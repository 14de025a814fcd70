/**
 * `tokens create --role editor|admin [--name N] [--expires 90d] [--json]`, `tokens list`,
 * `tokens revoke ID`. The token is printed once; only its sha256 is stored. An expired
 * token is refused (401 naming the expiry) by the API and the dashboard login.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { InputError, NotFoundError } from '../errors.js';
import { parseDuration } from './duration.js';
import { assertEmailAddress } from '../render/mime.js';
import type { ApiTokensRepository } from '../store/api-tokens-repository.js';
import type { TokenRole } from '../store/schema.js';

async function withTokens<T>(fn: (repo: ApiTokensRepository) => Promise<T>): Promise<T> {
  const { openCompositionRoot } = await import('../composition-root.js');
  const root = openCompositionRoot(loadConfig());
  try {
    return await fn(await root.apiTokens());
  } finally {
    await root.close();
  }
}

export function registerTokens(program: Command): void {
  const tokens = program.command('tokens').description('API and dashboard tokens');

  tokens
    .command('create')
    .description('create a token and print it once (it cannot be shown again)')
    .requiredOption('--role <role>', 'editor (create, test, send, pause campaigns; manage subscribers) or admin (everything, dashboard)')
    .option('--name <name>', 'who or what the token is for', '')
    .option('--expires <duration>', 'expire after this long: 90d, 12h, 2w, 30m (default: never)')
    .option('--email <address>', "the holder's address: the dashboard's test sends go there by default")
    .option('--json', 'print {id, name, role, expires_at, email, token}')
    .action((opts: { role: string; name: string; expires?: string; email?: string; json?: boolean }) => {
      // Checked before opening the store: bad input fails fast, whatever the environment.
      if (opts.role !== 'editor' && opts.role !== 'admin') throw new InputError(`--role must be editor or admin, got "${opts.role}"`);
      const name = opts.name.trim() || `${opts.role} token`;
      if (name.length > 100 || /[\r\n]/.test(name)) throw new InputError('--name must be one line of at most 100 characters');
      const expiresInMs = opts.expires !== undefined ? parseDuration(opts.expires) : undefined;
      if (expiresInMs === null) throw new InputError(`--expires must be a number and a unit (s, m, h, d, w) such as 90d, got "${opts.expires}"`);
      const email = opts.email === undefined ? null : assertEmailAddress(opts.email.trim(), '--email');
      return withTokens(async (repo) => {
        const created = await repo.create(opts.role as TokenRole, name, { expiresInMs, email });
        const expires = created.expires_at !== null ? new Date(created.expires_at).toISOString() : null;
        if (opts.json) {
          console.log(JSON.stringify({ ...created, expires_at: expires }));
        } else {
          console.error(`created ${created.role} token #${created.id} "${created.name}"${created.email ? ` for ${created.email}` : ''}${expires ? `, expires ${expires}` : ''}; store it now, it is not shown again:`);
          console.log(created.token);
        }
      });
    });

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
          expires_at: t.expires_at !== null ? new Date(t.expires_at).toISOString() : null,
          last_used_at: t.last_used_at ? new Date(t.last_used_at).toISOString() : null,
          email: t.email,
        }));
        if (opts.json) console.log(JSON.stringify(rows, null, 2));
        else for (const t of rows) console.log(`${t.id}\t${t.role}\t${t.name}\texpires ${t.expires_at ?? 'never'}\tlast used ${t.last_used_at ?? 'never'}`);
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
