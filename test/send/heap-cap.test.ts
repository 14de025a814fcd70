/** The worker's heap limits are added unless the user already chose a heap size. */
import { describe, expect, it } from 'vitest';
import { WORKER_HEAP_MB, workerHeapArgs } from '../../workers/heap-cap.js';

describe('workerHeapArgs', () => {
  it('adds the cap when none is given, and nothing when NODE_OPTIONS or the node flags set one', () => {
    expect(workerHeapArgs([], '')).toContain(`--max-old-space-size=${WORKER_HEAP_MB}`);
    expect(workerHeapArgs(['--import', 'tsx'], '--enable-source-maps')).toContain(`--max-old-space-size=${WORKER_HEAP_MB}`);
    expect(workerHeapArgs([], '--max-old-space-size=512')).toEqual([]);
    expect(workerHeapArgs(['--max_old_space_size=64'], '')).toEqual([]);
  });
});
