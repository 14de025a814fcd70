import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { importSubscribersCsv, type SubscriberImportStore } from './csv-import.js';
import type { ImportRow } from '../store/subscriber-import-repository.js';

/** A store whose first batch write waits until the test lets it finish. */
function heldStore() {
  const writes: string[][] = [];
  const events: string[] = [];
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const store: SubscriberImportStore = {
    clearStaleScratch: async () => undefined,
    clearScratch: async () => void events.push('scratch cleared'),
    writeBatch: async (_id: string, _list: number, rows: readonly ImportRow[]) => {
      const n = writes.push(rows.map((r) => r.email));
      events.push(`write ${n} started`);
      if (n === 1) await held;
      events.push(`write ${n} done`);
      return { imported: rows.length, updated: 0, suppressed: 0, duplicates: [] };
    },
  };
  return { store, writes, events, release };
}

describe('importSubscribersCsv overlaps parsing with writing', () => {
  it('parses the next batch while one is written, writes one batch at a time in file order, and waits for the last', async () => {
    const { store, writes, events, release } = heldStore();
    const csv = 'email\na@example.com\nb@example.com\nnot an address\nc@example.com\nd@example.com\ne@example.com\n';
    const rowErrors: number[] = [];
    const run = importSubscribersCsv(store, Readable.from([csv]), {
      listId: 1,
      batchSize: 2,
      onRowError: (e) => {
        rowErrors.push(e.line);
        events.push(`row error line ${e.line}`);
      },
    });
    // The bad row is after the first batch: it is reached while that batch's write is still held.
    await expect.poll(() => rowErrors, { timeout: 5_000 }).toEqual([4]);
    expect(events).toEqual(['write 1 started', 'row error line 4']);
    release();
    const report = await run;
    expect(report).toMatchObject({ imported: 5, bad: 1, rows: 6 });
    expect(writes).toEqual([['a@example.com', 'b@example.com'], ['c@example.com', 'd@example.com'], ['e@example.com']]);
    // Never two writes at once; the scratch rows are cleared after the last write.
    expect(events).toEqual(['write 1 started', 'row error line 4', 'write 1 done', 'write 2 started', 'write 2 done', 'write 3 started', 'write 3 done', 'scratch cleared']);
  });

  it('a failed write fails the import after the write in flight settles, with nothing unhandled', async () => {
    const calls: number[] = [];
    const store: SubscriberImportStore = {
      clearStaleScratch: async () => undefined,
      clearScratch: async () => void calls.push(-1),
      writeBatch: async (_id, _list, rows) => {
        calls.push(rows.length);
        if (calls.length === 1) throw new Error('disk full');
        return { imported: rows.length, updated: 0, suppressed: 0, duplicates: [] };
      },
    };
    const csv = 'email\n' + Array.from({ length: 7 }, (_, i) => `p${i}@example.com\n`).join('');
    await expect(importSubscribersCsv(store, Readable.from([csv]), { listId: 1, batchSize: 2 })).rejects.toThrow('disk full');
    // The first write failed: no later batch was written, and the scratch rows were cleared last.
    expect(calls).toEqual([2, -1]);
  });
});
