/** Polling helpers for integration tests. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `fn` every `everyMs` until it returns something truthy (returned), or fail after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | false | undefined | null> | T | false | undefined | null, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
