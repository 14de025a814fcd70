import { join } from 'node:path';

/** The project's own sample issue (runs without the corpus). */
export const EXAMPLE_ISSUE = join(import.meta.dirname, '../../examples/2026-11-22-harbor-weekly.md');
export const EXAMPLE_SITE_URL = 'https://tidewater.example.org';
