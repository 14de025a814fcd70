import { describe, expect, it } from 'vitest';
import { batchesOfRows, formBatches, recipientsOf, wholeBatchPage } from './send-queues.js';

describe('send batches', () => {
  it('the fan-out forms consecutive batches keyed by their first (lowest) subscriber id', () => {
    expect(formBatches([3, 5, 8, 9, 12], 2)).toEqual([
      { batch: 3, subscriberIds: [3, 5] },
      { batch: 8, subscriberIds: [8, 9] },
      { batch: 12, subscriberIds: [12] },
    ]);
    expect(formBatches([], 10)).toEqual([]);
  });

  it('queued rows go back into the batch they were fanned out in; rows without one get a job each', () => {
    const rows = [
      { subscriberId: 3, sendBatch: 3 },
      { subscriberId: 4, sendBatch: null },
      { subscriberId: 5, sendBatch: 3 },
      { subscriberId: 9, sendBatch: 8 },
      { subscriberId: 10, sendBatch: null },
    ];
    expect(batchesOfRows(rows)).toEqual([
      { batch: 3, subscriberIds: [3, 5] },
      { batch: null, subscriberIds: [4] },
      { batch: 8, subscriberIds: [9] },
      { batch: null, subscriberIds: [10] },
    ]);
  });

  it('a full page stops before its last batch, which may go on in the next page', () => {
    const row = (subscriberId: number, sendBatch: number | null) => ({ subscriberId, sendBatch });
    // Batch 3 = {3, 5} with a wave row (4) between its members; the page ends inside it.
    const full = [row(1, 1), row(2, 1), row(3, 3), row(4, null)];
    expect(wholeBatchPage([...full.slice(0, 3), row(5, 3)], 4)).toEqual({ rows: [row(1, 1), row(2, 1)], after: 2 });
    // The last row is one of its own: nothing to cut.
    expect(wholeBatchPage(full, 4)).toEqual({ rows: full, after: 4 });
    // Not full: the last page, kept whole.
    expect(wholeBatchPage(full.slice(0, 3), 4)).toEqual({ rows: full.slice(0, 3), after: undefined });
    // All one batch (a page smaller than a batch): kept whole, or the requeue would never move.
    expect(wholeBatchPage([row(7, 7), row(8, 7)], 2)).toEqual({ rows: [row(7, 7), row(8, 7)], after: 8 });
  });

  it('a job carries one subscriber or a batch', () => {
    expect(recipientsOf({ c: 1, s: 7 })).toEqual([7]);
    expect(recipientsOf({ c: 1, s: [7, 9] })).toEqual([7, 9]);
  });
});
