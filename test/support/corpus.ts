/**
 * The LWKD corpus lives outside the project (../shared/corpus/lwkd, or CORPUS_DIR).
 * Tests that need it skip with a printed notice where it is absent (a user's fresh clone).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const CORPUS_DIR = resolve(process.env.CORPUS_DIR ?? join(import.meta.dirname, '../../../shared/corpus/lwkd'));

export function corpusFiles(): string[] {
  if (!existsSync(CORPUS_DIR)) {
    console.warn(`[corpus] ${CORPUS_DIR} is absent: corpus tests are skipped (set CORPUS_DIR to run them)`);
    return [];
  }
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => join(CORPUS_DIR, f));
}

export const hasCorpus = (): boolean => existsSync(CORPUS_DIR);
