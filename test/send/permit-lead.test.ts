/**
 * Issue #15: the rate-limit permit wakes a recipient before its slot, so the claim and the
 * message build happen ahead of it, and the SES request starts only at the slot (the transport
 * awaits it after the SDK's own work). What this protects: a late slot never sends early, and
 * the work between slot and request, which the limiter's margin has to absorb, is the request's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startWorkerRuntime, type WorkerRuntime } from '../../workers/runtime.js';
import { createDefaultDeps } from '../../workers/default-deps.js';
import { createHarness, type Harness } from '../support/send-harness.js';
import { sleep, waitFor } from '../support/wait.js';

let h: Harness | undefined;
let rt: WorkerRuntime | undefined;
afterEach(async () => {
  await rt?.close();
  rt = undefined;
  await h?.close();
  h = undefined;
});

describe('rate-limit permits handed out ahead of their slot', () => {
  it('rows are claimed while their slots are still shut, and no request starts before its slot opens', async () => {
    const subscribers = 5;
    h = await createHarness({ subscribers, sendRate: 50 });
    // The slots stay shut until the test opens them: every permit's atSlot() waits for the real
    // limiter's slot and then for this gate.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let slotsAwaited = 0;
    rt = await startWorkerRuntime({
      config: loadConfig(h.env),
      createDeps: async (config, ctx) => {
        const deps = await createDefaultDeps(config, ctx);
        const real = deps.limiter;
        return {
          ...deps,
          limiter: {
            ...real,
            reserve: async (leadMs: number) => {
              const permit = await real.reserve(leadMs);
              return {
                slotAt: permit.slotAt,
                atSlot: async () => {
                  slotsAwaited++;
                  await permit.atSlot();
                  await gate;
                },
              };
            },
          },
        };
      },
    });
    const id = await h.startCampaign();
    const db = h.store.db;
    const claimed = async () =>
      (await db.selectFrom('deliveries').select('status').where('campaign_id', '=', id).execute()).filter((r) => r.status === 'sending').length;
    // Every recipient is claimed and its message built and signed, yet SES has seen nothing.
    await waitFor('all rows claimed ahead of their slots', async () => (await claimed()) === subscribers, 20_000, 50);
    expect(slotsAwaited).toBe(subscribers);
    await sleep(200);
    expect(h.sim.messages).toHaveLength(0);
    open();
    await h.waitForStatus(id, 'sent', 20_000);
    const counts = h.counts();
    expect(counts.size).toBe(subscribers);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });
});
