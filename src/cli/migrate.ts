import type { Command } from 'commander';
import { loadConfig } from '../config.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (also done on every start)')
    .action(async () => {
      const config = loadConfig();
      const [{ openCompositionRoot }, { migrateStore }] = await Promise.all([import('../composition-root.js'), import('../store/migrate.js')]);
      const root = openCompositionRoot(config, { migrate: false });
      try {
        const store = await root.store();
        const applied = await migrateStore(store);
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
      } finally {
        await root.close();
      }
    });
}
