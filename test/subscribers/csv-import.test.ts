import { Readable, PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, createTestStore, type TestStore } from '../support/store.js';
import { createSubscriberRepositories, type SubscriberRepositories } from '../../src/store/repositories.js';
import { importSubscribersCsv } from '../../src/subscribers/csv-import.js';
import { SubscriberImportRepository } from '../../src/store/subscriber-import-repository.js';
import { exportSubscribersCsv } from '../../src/subscribers/csv-export.js';
import { InputError } from '../../src/errors.js';
import { parse as parseCsv } from 'csv-parse/sync';
import { waitFor } from '../support/wait.js';

/** Feed raw bytes in small chunks. */
function bytes(data: Buffer, chunk = 7): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunk) parts.push(data.subarray(i, i + chunk));
  return Readable.from(parts);
}

/** Feed the text in small chunks so records, CRLFs and UTF-8 sequences straddle chunk boundaries. */
function csv(text: string, chunk = 7): Readable {
  const bytes = Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
  return Readable.from(parts);
}

// Every bad-row kind from issue 3, with a BOM and Windows line endings throughout.
// Line numbers (1-based, header = 1) are in the comments.
const MESSY = [
  '\ufeffEmail,Name,City', //                      1 (BOM, header case-insensitive)
  'ada@example.com,Ada Lovelace,London', //        2 good
  'not-an-address,Bad,Nowhere', //                 3 bad address
  'grace@example.com,Grace Hopper', //             4 missing column
  '', //                                           5 empty line (ignored)
  'linus@example.com,"Linus', //                   6 good: quoted newline in name…
  'Torvalds",Portland', //                         7 …continues here
  'ADA@Example.COM,Ada Again,Paris', //            8 duplicate of line 2, different case
  'alan@example.com,Alan Turing,Wilmslow,extra', // 9 too many columns
  'jose@example.com,José Ñúñez,Málaga', //         10 good, UTF-8 (split across chunks)
  'joan@example.com,"Joan ""the"" Clarke",Lond', // 11 good, escaped quotes
  ' Edsger@Example.com ,Edsger,Austin', //         12 good, trimmed + lower-cased
  'x@example.com,bell\u0007,X', //                 13 control character in name
  'tail@example.com,"never closed,Here', //        14 unclosed quote: runs to end of file
  'lost@example.com,Lost,Row', //                  15 swallowed by the quote above
].join('\r\n') + '\r\n';

describe.each(BACKENDS)('CSV import on %s', (dialect) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.drop();
    store = undefined;
  });

  async function setup(): Promise<{ r: SubscriberRepositories; listId: number }> {
    store = await createTestStore(dialect);
    const r = createSubscriberRepositories(store.db);
    const list = await r.lists.ensureList('default');
    return { r, listId: list.id };
  }

  /**
   * The list's audience, read page by page in id order, returned sorted by address: two
   * batches are written at a time, so ids interleave across adjacent batches.
   */
  async function audienceEmails(r: SubscriberRepositories, listId: number): Promise<string[]> {
    const out: string[] = [];
    for (let afterId = 0; ; ) {
      const page = await r.audience.audiencePage({ listId, afterId, limit: 3 });
      if (page.length === 0) return out.sort();
      out.push(...page.map((m) => m.email));
      afterId = page.at(-1)!.id;
    }
  }

  it('imports every good row and reports each bad one by its line', async () => {
    const { r, listId } = await setup();
    const progress: number[] = [];
    const report = await importSubscribersCsv(new SubscriberImportRepository(store!.db), csv(MESSY), { listId, batchSize: 2, onProgress: (n) => progress.push(n) });
    expect(report.errors.map((e) => e.line)).toEqual([3, 4, 8, 9, 13, 14]);
    const byLine = Object.fromEntries(report.errors.map((e) => [e.line, e.message]));
    expect(byLine[3]).toMatch(/not-an-address/);
    expect(byLine[4]).toMatch(/expected 3 fields.*found 2/);
    expect(byLine[8]).toMatch(/duplicate address ada@example.com \(first on line 2\)/);
    expect(byLine[9]).toMatch(/found 4/);
    expect(byLine[13]).toMatch(/control characters.*x@example.com/);
    expect(byLine[14]).toMatch(/quoted field is never closed.*lines 14–15/);
    expect(report).toMatchObject({ imported: 5, updated: 0, suppressed: 0, skipped: 6, rows: 11 });
    expect(progress.at(-1)).toBe(11);
    expect(progress.length).toBeGreaterThan(2);

    expect(await audienceEmails(r, listId)).toEqual(['ada@example.com', 'edsger@example.com', 'joan@example.com', 'jose@example.com', 'linus@example.com']);
    const ada = await r.subscribers.findByEmail('ada@example.com');
    expect(ada).toMatchObject({ name: 'Ada Lovelace', status: 'active' });
    expect(JSON.parse(ada!.attributes)).toEqual({ City: 'London' });
    expect((await r.subscribers.findByEmail('linus@example.com'))?.name).toBe('Linus Torvalds');
    expect((await r.subscribers.findByEmail('jose@example.com'))?.name).toBe('José Ñúñez');
    expect((await r.subscribers.findByEmail('joan@example.com'))?.name).toBe('Joan "the" Clarke');
    expect(await r.subscribers.findByEmail('lost@example.com')).toBeUndefined();
    // Duplicate detection's scratch rows are gone once the run ends.
    const scratch = await store!.db.withTables<{ import_seen: { email: string } }>().selectFrom('import_seen').select('email').execute();
    expect(scratch).toEqual([]);
  });

  it('finds duplicates within one batch and across batches', async () => {
    const { listId } = await setup();
    const file = 'email\na@example.com\nA@example.com\nb@example.com\nc@example.com\nB@EXAMPLE.COM\n';
    const report = await importSubscribersCsv(new SubscriberImportRepository(store!.db), csv(file), { listId, batchSize: 3 });
    expect(report.errors).toEqual([
      { line: 3, message: 'duplicate address a@example.com (first on line 2)' },
      { line: 6, message: 'duplicate address b@example.com (first on line 4)' },
    ]);
    expect(report).toMatchObject({ imported: 3, skipped: 2 });
  });

  it('two batches in flight: the earlier one in file order keeps a repeated address, even when the later one is quicker', async () => {
    const { r, listId } = await setup();
    const importer = new SubscriberImportRepository(store!.db);
    // A long batch whose last address (in address order too) comes again in a one-row batch
    // written at the same time: unordered, the short batch would record it first and win.
    const long = Array.from({ length: 3000 }, (_, i) => ({ line: i + 2, email: `a${String(i).padStart(5, '0')}@example.com`, name: 'Long', attributes: {} }));
    long.push({ line: 3002, email: 'zz@example.com', name: 'First', attributes: { from: 'line 3002' } });
    const short = [{ line: 3003, email: 'zz@example.com', name: 'Second', attributes: { from: 'line 3003' } }];
    const [first, second] = await Promise.all([importer.writeBatch('run', listId, long, 1), importer.writeBatch('run', listId, short, 2)]);
    expect(first).toMatchObject({ imported: 3001, duplicates: [] });
    expect(second).toEqual({ imported: 0, updated: 0, suppressed: 0, duplicates: [{ line: 3003, email: 'zz@example.com', firstLine: 3002 }] });
    const kept = await r.subscribers.findByEmail('zz@example.com');
    expect(kept?.name).toBe('First');
    expect(JSON.parse(kept!.attributes)).toEqual({ from: 'line 3002' });
    await importer.clearScratch('run');
  });

  it('re-import never puts unsubscribed, bounced, complained or removed addresses back in the audience', async () => {
    const { r, listId } = await setup();
    const people = ['keep', 'unsub', 'bounce', 'complain', 'removed', 'ses'].map((p) => `${p}@example.com`);
    const file = 'email,name,plan\n' + people.map((e, i) => `${e},Person ${i},free`).join('\n') + '\n';
    const first = await importSubscribersCsv(new SubscriberImportRepository(store!.db), csv(file), { listId });
    expect(first).toMatchObject({ imported: 6, updated: 0, errors: [] });

    const unsub = await r.subscribers.findByEmail('unsub@example.com');
    await r.subscribers.unsubscribe(unsub!.id, listId);
    await r.subscribers.setStatusByEmail('bounce@example.com', 'bounced', 'Permanent');
    await r.subscribers.setStatusByEmail('complain@example.com', 'complained', 'abuse');
    await r.subscribers.remove('removed@example.com');
    await r.suppressions.suppress('ses@example.com', 'ses-suppression-list', null);
    expect(await audienceEmails(r, listId)).toEqual(['keep@example.com']);

    // Same people again, shouting, with a new attribute; also into a second list.
    const again = 'EMAIL,plan\n' + people.map((e) => `${e.toUpperCase()},pro`).join('\n') + '\n';
    const second = await importSubscribersCsv(new SubscriberImportRepository(store!.db), csv(again), { listId, batchSize: 4 });
    expect(second).toMatchObject({ imported: 0, updated: 4, suppressed: 2, skipped: 2, errors: [] });
    const other = await r.lists.ensureList('other');
    await importSubscribersCsv(new SubscriberImportRepository(store!.db), csv(again), { listId: other.id });

    expect(await audienceEmails(r, listId)).toEqual(['keep@example.com']);
    expect(await audienceEmails(r, other.id)).toEqual(['keep@example.com']);
    expect(await r.audience.audienceCount({ listId })).toBe(1);
    expect(await r.subscribers.findByEmail('removed@example.com')).toBeUndefined();
    expect((await r.subscribers.findByEmail('unsub@example.com'))?.status).toBe('unsubscribed');
    expect((await r.listMembers.find(unsub!.id, listId))?.status).toBe('unsubscribed');
    expect((await r.subscribers.findByEmail('bounce@example.com'))?.status).toBe('bounced');
    expect((await r.subscribers.findByEmail('complain@example.com'))?.status).toBe('complained');
    // Name kept (no name column), attributes updated.
    const keep = await r.subscribers.findByEmail('keep@example.com');
    expect(keep?.name).toBe('Person 0');
    expect(JSON.parse(keep!.attributes)).toEqual({ plan: 'pro' });
  });

  it('export writes a CSV that re-imports without changing anyone', async () => {
    const { r, listId } = await setup();
    await importSubscribersCsv(new SubscriberImportRepository(store!.db), csv('email,name,city,tier\na@example.com,"A, Esq.",Rome,\nb@example.com,B,,gold\n'), { listId });
    await r.subscribers.unsubscribe((await r.subscribers.findByEmail('b@example.com'))!.id, listId);
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString('utf8')));
    expect(await exportSubscribersCsv(r.subscribers, listId, out)).toBe(2);
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('email,name,city,tier,status,list_status,created_at');
    expect(lines[1]).toMatch(/^a@example.com,"A, Esq.",Rome,,active,subscribed,\d{4}-/);
    expect(lines[2]).toMatch(/^b@example.com,B,,gold,unsubscribed,unsubscribed,/);
    const report = await importSubscribersCsv(new SubscriberImportRepository(store!.db), csv(text), { listId });
    expect(report).toMatchObject({ imported: 0, updated: 2, errors: [] });
    expect((await r.subscribers.findByEmail('b@example.com'))?.status).toBe('unsubscribed');
    expect(JSON.parse((await r.subscribers.findByEmail('b@example.com'))!.attributes)).toEqual({ tier: 'gold' });
  });

  it('refuses a file without an email column or without any header', async () => {
    const { listId } = await setup();
    await expect(importSubscribersCsv(new SubscriberImportRepository(store!.db), csv('name,city\nA,B\n'), { listId })).rejects.toThrow(/no "email" column/);
    await expect(importSubscribersCsv(new SubscriberImportRepository(store!.db), csv(''), { listId })).rejects.toBeInstanceOf(InputError);
    await expect(importSubscribersCsv(new SubscriberImportRepository(store!.db), csv('email,Email\n'), { listId })).rejects.toThrow(/twice/);
  });

  it('refuses a Latin-1 file naming its first non-UTF-8 line, and imports it correctly when told the encoding', async () => {
    const { r, listId } = await setup();
    const latin1 = Buffer.from('email,name,city\nada@example.com,Ada,London\njose@example.com,José Ñúñez,Málaga\n', 'latin1');
    const refused = importSubscribersCsv(new SubscriberImportRepository(store!.db), bytes(latin1), { listId, source: 'people.csv' });
    await expect(refused).rejects.toBeInstanceOf(InputError);
    await expect(importSubscribersCsv(new SubscriberImportRepository(store!.db), bytes(latin1), { listId, source: 'people.csv' })).rejects.toThrow(
      /^people\.csv:3: not valid UTF-8 \(byte 0xE9\).*--encoding latin1/,
    );
    // Nothing decoded into U+FFFD anywhere: line 2 came in the same chunk stream but the file was refused.
    expect(await r.subscribers.findByEmail('jose@example.com')).toBeUndefined();

    const report = await importSubscribersCsv(new SubscriberImportRepository(store!.db), bytes(latin1), { listId, encoding: 'latin1' });
    expect(report).toMatchObject({ imported: 2, bad: 0, errors: [] });
    const jose = await r.subscribers.findByEmail('jose@example.com');
    expect(jose?.name).toBe('José Ñúñez');
    expect(JSON.parse(jose!.attributes)).toEqual({ city: 'Málaga' });
  });

  it('a non-UTF-8 byte after batches were written says how many rows went in before it', async () => {
    const { r, listId } = await setup();
    // The good rows, then (once two batches are committed) a Latin-1 line.
    async function* source() {
      yield Buffer.from('email\n' + Array.from({ length: 5 }, (_, i) => `p${i}@example.com\n`).join(''));
      await waitFor('two batches written', async () => (await r.audience.audienceCount({ listId })) >= 4, 10_000, 20);
      yield Buffer.from('late@example.com,Ren\xe9\n', 'latin1');
    }
    const err = await importSubscribersCsv(new SubscriberImportRepository(store!.db), Readable.from(source()), { listId, batchSize: 2, source: 'late.csv' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/^late\.csv:7: not valid UTF-8 \(byte 0xE9\).*\(4 rows before it were imported; importing the corrected file again changes no one's status\)$/);
    expect(await audienceEmails(r, listId)).toEqual(['p0@example.com', 'p1@example.com', 'p2@example.com', 'p3@example.com']);
  });

  it('refuses binary data and a bad header without creating the list or echoing the bytes', async () => {
    store = await createTestStore(dialect);
    const r = createSubscriberRepositories(store.db);
    let listCreated = 0;
    const listId = async () => {
      listCreated++;
      return (await r.lists.ensureList('never')).id;
    };
    // A PNG-like header: high bytes, control bytes, NULs.
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]), Buffer.alloc(500, 0xab)]);
    const binary = await importSubscribersCsv(new SubscriberImportRepository(store.db), bytes(png, 64), { listId, source: 'photo.png' }).catch((e: Error) => e);
    expect(binary).toBeInstanceOf(InputError);
    expect((binary as Error).message).toMatch(/^photo\.png:\d+: (binary data|not valid UTF-8)/);
    expect((binary as Error).message.length).toBeLessThan(200);
    expect((binary as Error).message).toMatch(/^[\x20-\x7e]+$/);

    const nul = await importSubscribersCsv(new SubscriberImportRepository(store.db), csv('email,name\nada@example.com,A\u0000da\n'), { listId, source: 'x.csv' }).catch((e: Error) => e);
    expect((nul as Error).message).toBe('x.csv:2: binary data (a NUL byte), not a CSV text file');

    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('email\n', 'utf16le')]);
    await expect(importSubscribersCsv(new SubscriberImportRepository(store.db), bytes(utf16), { listId })).rejects.toThrow(/line 1: the file is UTF-16/);

    const noEmail = 'name,' + 'x'.repeat(500) + ',a,b,c,d,e\nAda,1,2,3,4,5,6\n';
    const header = await importSubscribersCsv(new SubscriberImportRepository(store.db), csv(noEmail), { listId, source: 'y.csv' }).catch((e: Error) => e);
    expect((header as Error).message).toMatch(/^y\.csv:1: header row has no "email" column \(found: "name", "x{37}\.\.\.", "a", "b", "c" and 2 more\)$/);

    expect(listCreated).toBe(0);
    expect(await r.lists.findByName('never')).toBeUndefined();
  });

  it('keeps the first maxErrors errors and counts them all; every one goes to onRowError as found', async () => {
    const { listId } = await setup();
    const file = 'email,name\n' + Array.from({ length: 25 }, (_, i) => (i % 5 === 4 ? `ok${i}@example.com,Ok` : `bad-${i},Bad`)).join('\n') + '\nok4@example.com,Dup\n';
    const seen: number[] = [];
    const report = await importSubscribersCsv(new SubscriberImportRepository(store!.db), csv(file), { listId, maxErrors: 3, batchSize: 4, onRowError: (e) => void seen.push(e.line) });
    expect(report).toMatchObject({ rows: 26, imported: 5, bad: 21, skipped: 21, suppressed: 0 });
    expect(report.errors).toHaveLength(3);
    expect(report.errors.map((e) => e.line)).toEqual([2, 3, 4]);
    expect(seen.sort((a, b) => a - b)).toEqual([...Array.from({ length: 25 }, (_, i) => i + 2).filter((l) => (l - 2) % 5 !== 4), 27]);
  });

  it('export neutralises formula cells with a quote, and import strips exactly that prefix: the round trip keeps every value', async () => {
    const { r, listId } = await setup();
    // What an anonymous sign-up and the API can store: a formula address and name, formula
    // attributes (and one whose key is a formula), and values that really begin with a quote.
    const people = [
      { email: '=cmd|calc@example.com', name: '=HYPERLINK("http://evil.example","x")', attributes: { plan: '+1', '@key': 'v' } },
      { email: '-minus@example.com', name: "'=already quoted", attributes: { plan: '-5', note: '\t=1' } },
      { email: '+plus@example.com', name: "O'Brien", attributes: { plan: "'plain", note: '\r=2' } },
      { email: "'quote@example.com", name: '@SUM(A1)', attributes: { plan: 'free', note: "''@x" } },
    ];
    for (const p of people) {
      const { subscriber } = await r.subscribers.upsert({ email: p.email, name: p.name, attributes: p.attributes });
      await r.listMembers.addToList(subscriber.id, listId);
    }
    const before = await Promise.all(people.map((p) => r.subscribers.findByEmail(p.email)));

    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString('utf8')));
    expect(await exportSubscribersCsv(r.subscribers, listId, out)).toBe(4);
    const records = parseCsv(text) as string[][];
    expect(records[0]).toEqual(['email', 'name', "'@key", 'note', 'plan', 'status', 'list_status', 'created_at']);
    // No cell of the export starts a formula.
    expect(records.flat().filter((c) => /^[=+\-@\t\r]/.test(c))).toEqual([]);
    expect(records.slice(1).map((row) => row.slice(0, 5))).toEqual([
      ["'=cmd|calc@example.com", '\'=HYPERLINK("http://evil.example","x")', 'v', '', "'+1"],
      ["'-minus@example.com", "''=already quoted", '', "'\t=1", "'-5"],
      ["'+plus@example.com", "O'Brien", '', "'\r=2", "'plain"],
      ["'quote@example.com", "'@SUM(A1)", '', "'''@x", 'free'],
    ]);

    const report = await importSubscribersCsv(new SubscriberImportRepository(store!.db), csv(text), { listId });
    expect(report).toMatchObject({ imported: 0, updated: 4, bad: 0, errors: [] });
    const after = await Promise.all(people.map((p) => r.subscribers.findByEmail(p.email)));
    expect(after.map((s) => [s?.email, s?.name, JSON.parse(s!.attributes)])).toEqual(before.map((s) => [s?.email, s?.name, JSON.parse(s!.attributes)]));
    expect(after.map((s) => s?.name)).toEqual(people.map((p) => p.name));
  });
});

describe('CSV import with batches in flight', () => {
  it('a failed batch stops the import: none starts after it, the one in flight beside it settles first, then the scratch rows go', async () => {
    const events: string[] = [];
    let thirdStarted!: () => void;
    const third = new Promise<void>((resolve) => (thirdStarted = resolve));
    const store = {
      clearStaleScratch: async () => undefined,
      clearScratch: async () => void events.push('clear scratch'),
      writeBatch: async (_run: string, _list: number, rows: readonly { line: number }[]) => {
        const first = rows[0]!.line;
        events.push(`write from line ${first}`);
        // The second batch fails once the third is in flight; the third commits a little later.
        if (first === 4) {
          await third;
          throw new Error('connection lost');
        }
        if (first === 6) {
          thirdStarted();
          await new Promise((resolve) => setTimeout(resolve, 30));
        }
        events.push(`committed from line ${first}`);
        return { imported: rows.length, updated: 0, suppressed: 0, duplicates: [] };
      },
    };
    const file = 'email\n' + Array.from({ length: 8 }, (_, i) => `p${i}@example.com\n`).join('');
    const err = await importSubscribersCsv(store, csv(file), { listId: 1, batchSize: 2 }).catch((e: Error) => e);
    expect((err as Error).message).toBe('connection lost');
    // The third batch (lines 6-7) was in flight beside the failed second; it settled before the
    // import gave up, and no batch after it was started.
    expect(events).toEqual(['write from line 2', 'committed from line 2', 'write from line 4', 'write from line 6', 'committed from line 6', 'clear scratch']);
  });
});
