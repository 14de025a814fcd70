/**
 * workers/send-processor.ts, the campaign status it checks before every recipient: cached for
 * `statusTtlMs`, and one read shared by the recipients that miss together (a job of 10, or the
 * permits of a reservation round trip), not one read each.
 */
import { describe, expect, it } from 'vitest';
import type { Job } from 'bullmq';
import { createSendProcessor, type SendProcessorDeps } from '../../workers/send-processor.js';
import type { SendJobData } from '../../src/queue/send-queues.js';

function processorWith(status: () => Promise<{ status: string } | undefined>) {
  let reads = 0;
  const deps = {
    campaigns: {
      status: () => {
        reads++;
        return status();
      },
    },
    // Nothing past the status check is reached for a paused campaign.
  } as unknown as SendProcessorDeps;
  return { processor: createSendProcessor({ ...deps, claimLeaseMs: 10_000, statusTtlMs: 60_000 }), reads: () => reads };
}

const job = (subscribers: number[]) => ({ data: { c: 1, s: subscribers } }) as unknown as Job<SendJobData>;

describe('the send processor’s campaign status', () => {
  it('recipients that miss the cache together share one read', async () => {
    const { processor, reads } = processorWith(async () => ({ status: 'paused' }));
    const outcomes = await processor.process(job([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    expect(outcomes).toEqual(Array(10).fill('not-sending'));
    expect(reads()).toBe(1);
    // Within the TTL, the next job reads nothing.
    await processor.process(job([11, 12]));
    expect(reads()).toBe(1);
    processor.close();
  });

  it('a failed read is not kept: the next recipient reads again', async () => {
    let fail = true;
    const { processor, reads } = processorWith(async () => {
      if (fail) throw new Error('database unreachable');
      return { status: 'paused' };
    });
    await expect(processor.process(job([1, 2, 3]))).rejects.toThrow('database unreachable');
    expect(reads()).toBe(1);
    fail = false;
    expect(await processor.process(job([4]))).toEqual(['not-sending']);
    expect(reads()).toBe(2);
    processor.close();
  });
});
