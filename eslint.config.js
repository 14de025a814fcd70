import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * SQL lives only in src/store/ (issue #11). Outside it, code reaches the database through
 * repository methods (src/store/repositories.ts: openRepositories), never through Kysely,
 * a driver, or the Store's `db` handle. test/ and bench/ seed data directly and are exempt.
 */
const STORE_BOUNDARY_MESSAGE = 'SQL lives in src/store/: call a repository method (openRepositories(store)) instead.';

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'artifacts/**', 'dist/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['bin/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    files: ['src/**/*.ts', 'workers/**/*.ts'],
    ignores: ['src/store/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            // Type imports too: a `Kysely<Database>` parameter is a db handle passed around.
            // Row types (Subscriber, Campaign, …) come from src/store/schema.ts, which is allowed.
            { group: ['kysely', 'kysely/*'], message: STORE_BOUNDARY_MESSAGE },
            { group: ['better-sqlite3', 'pg', 'pg/*'], message: `${STORE_BOUNDARY_MESSAGE} (database drivers are opened by src/store/db.ts)` },
            { group: ['**/store/migrations/*'], message: 'Migrations run through src/store/migrate.ts (migrateStore).' },
            { group: ['**/store/migrate.js'], importNames: ['migrateToLatest'], message: 'migrateToLatest takes the db handle: use migrateStore(store).' },
          ],
        },
      ],
      // An import rule cannot see `store.db`: forbid reading (or destructuring) a `db`
      // property outside the store, which is how the handle would leak back in.
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[property.name='db']", message: STORE_BOUNDARY_MESSAGE },
        { selector: "ObjectPattern > Property[key.name='db']", message: STORE_BOUNDARY_MESSAGE },
      ],
    },
  },
);
