/** The worker's heap limits apply only when WORKER_HEAP_MB asks for them and no heap size is given. */
import { describe, expect, it } from 'vitest';
import { workerHeapArgs } from '../../workers/heap-cap.js';

describe('workerHeapArgs', () => {
  it('is off unless WORKER_HEAP_MB is set', () => {
    expect(workerHeapArgs([], '', undefined)).toEqual([]);
    expect(workerHeapArgs([], '', 'lots')).toEqual([]);
  });

  it('adds the cap when asked, and nothing when NODE_OPTIONS or the node flags set a heap size', () => {
    expect(workerHeapArgs([], '', '128')).toEqual(['--max-old-space-size=128']);
    expect(workerHeapArgs(['--import', 'tsx'], '--enable-source-maps', '160')).toContain('--max-old-space-size=160');
    expect(workerHeapArgs([], '--max-old-space-size=512', '128')).toEqual([]);
    expect(workerHeapArgs(['--max_old_space_size=64'], '', '128')).toEqual([]);
  });
});
