/**
 * Streamed CSV import of subscribers into one list. The file is never held in memory:
 * records flow from csv-parse into batches that are written in one transaction each, two
 * batches at a time while the next is parsed.
 *
 * Rules (see issue 3):
 * - a header row names the columns; `email` is required, `name` optional, every other
 *   column becomes an attribute (empty cells are not stored, so they never blank out a
 *   value from an earlier import). `status`, `list_status` and `created_at` (written by
 *   export) are ignored: an import never sets anyone's status.
 * - a bad row (invalid address or name, wrong number of fields, duplicate address in the
 *   file, compared case-insensitively, broken quoting) is reported by its line number in
 *   the file and skipped; every good row goes in.
 * - an address that is suppressed (removed, bounced, complained) is skipped; an existing
 *   subscriber keeps their status and their list membership status, so a re-import never
 *   resubscribes someone who left.
 * - the file must be text in its encoding (UTF-8 unless told `latin1`): binary data or
 *   invalid UTF-8 stops the import with an error naming the line (src/subscribers/csv-text.ts);
 *   nothing is decoded into U+FFFD.
 * - the target list is created only once the header row is valid, so a refused file leaves
 *   no empty list behind.
 * - a cell that export prefixed with `'` against formula injection gets that prefix removed
 *   (src/subscribers/csv-formula.ts), so export → import round-trips.
 * - memory stays flat however many rows are bad: the report keeps counts and the first
 *   `maxErrors` errors; every error is also handed to `onRowError` as it is found.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Parser, type CsvError } from 'csv-parse';
import { InputError } from '../errors.js';
import type { ImportRow, SubscriberImportRepository } from '../store/subscriber-import-repository.js';
import { restoreFormula } from './csv-formula.js';
import { decodeCsvText } from './csv-text.js';
import type { CsvEncoding } from './text-encoding.js';
import { emailProblem, nameProblem, normaliseEmail, parseName } from './subscriber-fields.js';

export interface ImportRowError {
  /** 1-based line in the file where the bad record starts (the header is line 1). */
  line: number;
  message: string;
}

export interface ImportReport {
  /** New subscribers created. */
  imported: number;
  /** Existing subscribers whose name/attributes were updated (status untouched). */
  updated: number;
  /** Rows not written: bad rows plus suppressed addresses. */
  skipped: number;
  /** Of the skipped rows, those with an error (all of them; `errors` lists at most the first `maxErrors`). */
  bad: number;
  /** Of the skipped rows, those whose address is suppressed. */
  suppressed: number;
  /** Data rows read (good and bad). */
  rows: number;
  /** The first `maxErrors` errors found (by line). */
  errors: ImportRowError[];
}

export interface ImportOptions {
  /**
   * The target list, or how to get it: called once, when the header row has proved valid,
   * so that a file refused at its header (or before: binary, wrong encoding) creates no list.
   */
  listId: number | (() => Promise<number>);
  /** How the file's bytes are encoded (default utf8). */
  encoding?: CsvEncoding;
  /** The file's name in error messages (`people.csv:3: …`). */
  source?: string;
  /** Errors kept in the report (default 1000); the count covers them all. */
  maxErrors?: number;
  /**
   * Every row error, as it is found (not in line order: duplicates are found per batch).
   * A returned promise (say, the output draining) is awaited before the import goes on.
   */
  onRowError?: (error: ImportRowError) => void | Promise<void>;
  /** Rows per transaction (default 1000). */
  batchSize?: number;
  /**
   * Batches written at the same time (default 2): on PostgreSQL each has its own connection and
   * server process, so the index and foreign-key work of two batches runs on two cores.
   */
  writers?: number;
  /** Called with the number of data rows processed so far, after each batch and at the end. */
  onProgress?: (rowsProcessed: number) => void;
  now?: () => number;
}

/** Columns that export writes but import must never trust. */
const IGNORED_COLUMNS = new Set(['status', 'list_status', 'created_at']);
/** What an import needs from the store: batch writes and the run's duplicate-detection scratch rows. */
export type SubscriberImportStore = Pick<SubscriberImportRepository, 'clearStaleScratch' | 'clearScratch' | 'writeBatch'>;

/** Each row binds 7 values; 1000 rows stay far below SQLite's and Postgres's parameter limits. */
const DEFAULT_BATCH = 1000;
const DEFAULT_MAX_ERRORS = 1000;
/** Two batches in flight: the 1M-row import on a 2-core PostgreSQL host, 1 → 2 writers (bench/results/scale.md). */
const DEFAULT_WRITERS = 2;
/** Scratch rows older than this belong to a run that crashed; removed at the next import. */
const STALE_SCRATCH_MS = 24 * 60 * 60 * 1000;

/** A parsed record and the line it starts on. */
interface ParsedRecord {
  record: string[];
  line: number;
}

/**
 * csv-parse's parser, tagging each record with the line it starts on when it is parsed.
 * That is in parse order (the consumer may lag a buffer of records behind), so a skipped
 * record's first line is known when the 'skip' event fires. (Not the `info`, `raw` or
 * `on_record` options: each builds objects and strings per record, which dominated the
 * time and garbage of a large import.)
 */
class LineTaggingParser extends Parser {
  /** The line the last record (parsed or skipped) ended on. */
  lastEndLine = 0;
  override push(record: unknown, encoding?: BufferEncoding): boolean {
    if (record === null) return super.push(null);
    this.lastEndLine = this.info.lines;
    const tagged: ParsedRecord = { record: record as string[], line: this.info.lines - innerNewlines(record as string[]) };
    return super.push(tagged, encoding);
  }
}

export async function importSubscribersCsv(
  importer: SubscriberImportStore,
  input: Readable,
  options: ImportOptions,
): Promise<ImportReport> {
  const now = options.now ?? Date.now;
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  const writers = Math.max(1, options.writers ?? DEFAULT_WRITERS);
  const maxErrors = options.maxErrors ?? DEFAULT_MAX_ERRORS;
  const report: ImportReport = { imported: 0, updated: 0, skipped: 0, bad: 0, suppressed: 0, rows: 0, errors: [] };
  const rowError = (error: ImportRowError): void | Promise<void> => {
    report.skipped++;
    report.bad++;
    if (report.errors.length < maxErrors) report.errors.push(error);
    return options.onRowError?.(error);
  };
  const location = (line: number) => (options.source ? `${options.source}:${line}` : `line ${line}`);
  // Duplicates are found through the store's scratch rows for this run, not an in-memory
  // set of every address, so memory stays flat however long the file is.
  const importId = randomUUID();
  await importer.clearStaleScratch(now() - STALE_SCRATCH_MS);
  const parser = new LineTaggingParser({
    bom: true,
    relax_column_count: true,
    // A stray quote inside an unquoted field (`O"Brien`) is kept literally rather than
    // making the parser lose track of records.
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: 64 * 1024,
  });
  parser.on('skip', (err: CsvError & { lines?: number }) => {
    const start = parser.lastEndLine + 1;
    const end = err.lines ?? start;
    report.rows++;
    const span = end > start ? ` (lines ${start}–${end} not imported)` : '';
    // Not awaited (an event handler); when the consumer below waits, the parser waits too.
    void rowError({ line: start, message: `${csvErrorMessage(err)}${span}` });
    parser.lastEndLine = end;
  });

  const done = pipeline(input, decodeCsvText({ encoding: options.encoding, source: options.source }), parser);
  // Awaited after the loop; marked handled now so a read error during a batch write is
  // not reported as an unhandled rejection (the loop sees the same error).
  done.catch(() => undefined);

  let header: Header | undefined;
  let listId: number | undefined;
  let batch: ImportRow[] = [];
  // Batches are written `writers` at a time, and the next one is parsed while they are
  // written. The store keeps file order for repeated addresses across batches in flight
  // (SubscriberImportRepository.writeBatch); a batch's result is counted when it settles.
  const inFlight = new Set<Promise<void>>();
  const write = async (rows: ImportRow[]) => {
    const written = await importer.writeBatch(importId, listId!, rows, now());
    for (const d of written.duplicates) await rowError({ line: d.line, message: `duplicate address ${d.email} (first on line ${d.firstLine})` });
    report.imported += written.imported;
    report.updated += written.updated;
    report.suppressed += written.suppressed;
    report.skipped += written.suppressed;
    options.onProgress?.(report.rows);
  };
  /** The first failed write: no batch is started after it, and the import throws it once the rest settle. */
  let failed: { error: unknown } | undefined;
  const flush = async () => {
    if (batch.length === 0) return;
    const rows = batch;
    batch = [];
    while (inFlight.size >= writers && !failed) await Promise.race(inFlight);
    if (failed) throw failed.error;
    const writing: Promise<void> = write(rows)
      .catch((error: unknown) => void (failed ??= { error }))
      .finally(() => inFlight.delete(writing));
    inFlight.add(writing);
  };
  /** Wait for every batch in flight, then throw the first failure, if any. */
  const settle = async () => {
    await Promise.all([...inFlight]);
    if (failed) throw failed.error;
  };

  try {
    for await (const { record, line } of parser as AsyncIterable<ParsedRecord>) {
      if (!header) {
        header = parseHeader(record.map(cell), location(line));
        listId = typeof options.listId === 'number' ? options.listId : await options.listId();
        continue;
      }
      report.rows++;
      const bad = (message: string) => rowError({ line, message });
      if (record.length !== header.width) {
        await bad(`expected ${header.width} fields (${header.names.join(',')}), found ${record.length}`);
        continue;
      }
      const email = normaliseEmail(cell(record[header.email]!));
      const emailError = emailProblem(email);
      if (emailError) {
        await bad(emailError);
        continue;
      }
      const rawName = header.name === undefined ? '' : cell(record[header.name]!);
      const nameError = nameProblem(rawName);
      if (nameError) {
        await bad(`${nameError} (${email})`);
        continue;
      }
      const attributes: Record<string, string> = {};
      for (const [key, index] of header.attributes) {
        const value = cell(record[index]!);
        if (value !== '') attributes[key] = value;
      }
      batch.push({ line, email, name: parseName(rawName), attributes });
      if (batch.length >= batchSize) await flush();
    }
    await done;
    if (!header) throw new InputError('the file is empty; expected a header row with an "email" column', location(1));
    await flush();
    await settle();
  } catch (err) {
    input.destroy();
    parser.destroy();
    // Batches still in flight commit or fail on their own; count them before saying what went in.
    await settle().catch(() => undefined);
    // Batches before the bad byte are committed: say so, rather than let it look like nothing happened.
    const written = report.imported + report.updated;
    if (err instanceof InputError && written > 0) {
      throw new InputError(`${err.message} (${written} rows before it were imported; importing the corrected file again changes no one's status)`);
    }
    throw err;
  } finally {
    await importer.clearScratch(importId);
  }
  options.onProgress?.(report.rows);
  report.errors.sort((a, b) => a.line - b.line);
  return report;
}

/**
 * A cell's value: trimmed, then without the `'` export put before a formula-like value
 * (after the trim, so a neutralised value keeps its own leading tab or CR).
 */
function cell(raw: string): string {
  return restoreFormula(raw.trim());
}

interface Header {
  width: number;
  names: string[];
  email: number;
  name: number | undefined;
  attributes: Array<[string, number]>;
}

function parseHeader(record: string[], at: string): Header {
  const names = record.map((n) => n.trim());
  const lower = names.map((n) => n.toLowerCase());
  const email = lower.indexOf('email');
  if (email < 0) throw new InputError(`header row has no "email" column (found: ${quoteColumns(names)})`, at);
  const dup = lower.find((n, i) => n !== '' && lower.indexOf(n) !== i);
  if (dup) throw new InputError(`header row names column "${shown(dup)}" twice`, at);
  const name = lower.indexOf('name');
  const attributes: Array<[string, number]> = [];
  names.forEach((n, i) => {
    if (i === email || i === name || IGNORED_COLUMNS.has(lower[i]!)) return;
    if (n === '') throw new InputError(`header column ${i + 1} has no name`, at);
    attributes.push([n, i]);
  });
  return { width: names.length, names, email, name: name < 0 ? undefined : name, attributes };
}

/** A header cell as quoted in a message: control characters escaped, at most 40 characters. */
function shown(name: string): string {
  // eslint-disable-next-line no-control-regex
  const escaped = name.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return escaped.length > 40 ? `${escaped.slice(0, 37)}...` : escaped;
}

/** The first few header cells, for a message about a header that is not ours. */
function quoteColumns(names: string[]): string {
  const listed = names.slice(0, 5).map((n) => `"${shown(n)}"`).join(', ');
  return names.length > 5 ? `${listed} and ${names.length - 5} more` : listed;
}

/**
 * Newlines inside a record, so its first line can be derived from its last: they can only
 * be inside quoted fields (the parser sees LF line endings only).
 */
function innerNewlines(record: string[]): number {
  let n = 0;
  for (const field of record) for (let i = field.indexOf('\n'); i >= 0; i = field.indexOf('\n', i + 1)) n++;
  return n;
}

function csvErrorMessage(err: CsvError): string {
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field is never closed';
    case 'CSV_MAX_RECORD_SIZE':
      return 'row is longer than 64 KiB (unbalanced quote?)';
    default:
      return err.message.replace(/\s+at line \d+.*$/, '');
  }
}
