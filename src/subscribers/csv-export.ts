/**
 * Streamed CSV export of one list: `email,name,<attribute columns…>,status,list_status,created_at`.
 * The output re-imports cleanly (import ignores status, list_status and created_at, so an
 * export → import round trip never changes anyone's status). Two keyset passes: the first
 * collects attribute names (only the names are kept), the second writes rows, waiting for
 * the output to drain so memory stays flat however long the list is. Every cell, header
 * included, is neutralised against formula injection (src/subscribers/csv-formula.ts):
 * addresses, names and attributes come from strangers through the sign-up form and the API.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { SubscribersRepository } from '../store/subscribers-repository.js';
import { parseAttributes } from '../store/subscribers-repository.js';
import { neutraliseFormula } from './csv-formula.js';

const PAGE = 1000;
const FIXED = ['email', 'name'];
const TRAILING = ['status', 'list_status', 'created_at'];

export async function exportSubscribersCsv(subscribers: SubscribersRepository, listId: number, output: Writable): Promise<number> {
  const keys = new Set<string>();
  for await (const row of pages(subscribers, listId)) {
    for (const key of Object.keys(parseAttributes(row.attributes))) keys.add(key);
  }
  const reserved = new Set([...FIXED, ...TRAILING]);
  const attributeKeys = [...keys].filter((k) => !reserved.has(k.toLowerCase())).sort();

  const csv = stringify({ header: false });
  csv.pipe(output, { end: false });
  if (!csv.write([...FIXED, ...attributeKeys, ...TRAILING].map(neutraliseFormula))) await once(csv, 'drain');
  let count = 0;
  for await (const row of pages(subscribers, listId)) {
    const attributes = parseAttributes(row.attributes);
    const record = [
      row.email,
      row.name ?? '',
      ...attributeKeys.map((k) => stringifyValue(attributes[k])),
      row.status,
      row.membership,
      new Date(row.created_at).toISOString(),
    ].map(neutraliseFormula);
    count++;
    if (!csv.write(record)) await once(csv, 'drain');
  }
  csv.end();
  await once(csv, 'end');
  return count;
}

async function* pages(subscribers: SubscribersRepository, listId: number) {
  let afterId = 0;
  for (;;) {
    const page = await subscribers.exportPage(listId, afterId, PAGE);
    yield* page;
    if (page.length < PAGE) return;
    afterId = page.at(-1)!.id;
  }
}

function stringifyValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
