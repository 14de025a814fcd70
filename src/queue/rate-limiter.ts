/**
 * A global send-rate limiter shared through Redis by every worker process on every
 * machine: evenly spaced emission (GCRA with zero burst tolerance).
 *
 * Each permit gets a slot on Redis's clock (server TIME, never a client's clock, so
 * machines with skewed clocks agree): slot = max(now, last + interval), and the
 * caller sleeps until its slot. Consecutive slots are therefore at least one
 * interval apart, so no sliding one-second window can hold more than
 * 1 s / interval of them. BullMQ's own limiter counts per fixed window, which lets
 * two windows' worth through around a window edge when several workers race.
 *
 * The interval is stretched by a small margin (default 25 ms per second, i.e. 2.5%)
 * so that lateness in granting (timers, event loop, Redis round trip) up to that
 * margin can never push a sliding window over the rate. A permit that wakes up
 * later than `staleMs` after its slot (judged against Redis's clock offset, so a
 * reply stuck behind a busy event loop counts) would bunch with the slots after it:
 * if it is less late than one interval it pushes the shared schedule back by its
 * lateness (cheaper), otherwise it discards the slot and takes a fresh one, within
 * a budget (`staleBudget`, `staleBurstSeconds`, `maxStaleRetries`) so that an
 * overloaded process does not fall to a fraction of the rate. Beyond the budget a
 * late permit is granted and, while the schedule is reserved further ahead than its
 * lateness (the fleet is using every slot), the schedule is pushed back by that
 * lateness: the fleet loses that much schedule, never the bound (a bunch sent as it
 * is would get Throttling answers and the fleet's rate cut by `decreaseFactor`, which
 * costs far more). A schedule not kept full (workers saturated below the rate) is not
 * pushed: the slots after the late permit are not all being used.
 *
 * Back-pressure: `reportThrottled()` (SES "Maximum sending rate exceeded")
 * multiplies the shared effective rate by `decreaseFactor`, at most once per
 * `throttleCooldownMs` (every in-flight send throttled at the same moment reports
 * the same congestion), after which the effective rate climbs back linearly to the
 * configured rate. A first report after a calm spell (`calmMs` without a decrease) may cut
 * less (`firstDecreaseFactor`): one stray Throttling answer then costs a few messages, not
 * seconds of a 30% cut, while a real overload keeps being reported and gets the full
 * decrease from its second report on. All of it is computed lazily inside the scripts
 * from server time: no timers, no leader.
 *
 * Round trips: the callers of one instance that ask while its reservation call is on the way
 * share the next call, which reserves consecutive slots for all of them (see `reserveSlot`): at a
 * high rate one Redis script call serves a batch of permits, with the same slots.
 *
 * State is one small hash that expires when unused. If Redis loses it (restart,
 * eviction) the limiter starts afresh; each instance remembers the latest slot it
 * was given and hands it in as a floor, so a restart does not let new slots overlap
 * that instance's already reserved ones.
 */
import type { Redis } from 'ioredis';
import { loadLuaScript, type LuaScript } from './lua-script.js';
import { redisKeys } from './redis-keys.js';

export interface RateLimiterOptions {
  redis: Redis;
  /** Key prefix (QUEUE_PREFIX); the state lives at `<prefix>:ratelimit:<name>`. */
  prefix: string;
  /** Configured (target) rate in permits per second; any positive number, fractions allowed. */
  ratePerSecond: number;
  /** Several independent limiters under one prefix. Default `send`. */
  name?: string;
  /** Interval stretch per second of schedule that absorbs granting lateness. Default 25. */
  marginMs?: number;
  /**
   * Whether this instance's rate becomes the fleet's target on its first permit (default
   * true: a worker started with a new SEND_RATE wins). false: only used when no fleet
   * state exists yet.
   */
  assertRate?: boolean;
  /** A wake-up later than this after its slot discards the slot. Default marginMs - 5. */
  staleMs?: number;
  /** Slots one acquire may discard as stale before it grants anyway. Default 3. */
  maxStaleRetries?: number;
  /**
   * Discarded slots allowed per granted permit (a token bucket), so that an
   * overloaded process loses at most this share of throughput to discards; beyond
   * it late permits push the shared schedule back by their lateness (while the fleet
   * keeps it full). Default 0.1.
   */
  staleBudget?: number;
  /**
   * The bucket's size, in seconds of slots at the configured rate (at least 20 slots): how
   * many late permits of one burst (a stall, a warm-up) may give their slots up before the
   * next ones push the schedule back. It starts full. Default 0.5.
   */
  staleBurstSeconds?: number;
  /** Multiplicative decrease on throttling. Default 0.7. */
  decreaseFactor?: number;
  /**
   * The decrease of a report that comes `calmMs` or more after the last decrease (or is the
   * first): gentler than `decreaseFactor` for a one-off. Default: `decreaseFactor`.
   */
  firstDecreaseFactor?: number;
  /** How long without a decrease makes the next report a first one. Default 10000. */
  calmMs?: number;
  /** Further throttle reports within this time of the last decrease are ignored. Default 500. */
  throttleCooldownMs?: number;
  /** Additive recovery, as a fraction of the configured rate per second. Default 0.05. */
  recoveryPerSecond?: number;
  /** The effective rate never drops below this fraction of the configured rate. Default 0.02. */
  minRateFraction?: number;
  /** Idle state expires after this long. Default one hour. */
  stateTtlMs?: number;
  /** Most slots one reservation round trip takes for callers waiting together. Default 64; 1 = one call per permit. */
  maxBatch?: number;
}

/** Counters for benchmarks and logs. */
export interface RateLimiterCounters {
  granted: number;
  /** Slots discarded because the caller woke up too late to use them safely. */
  staleSlots: number;
  /** Permits granted later than staleMs after their slot without pushing the schedule back (it was not kept full, Redis lost the state, or the push kept landing too late). */
  lateGrants: number;
  /** Late permits granted by pushing the shared schedule back (instead of discarding, or with the stale budget spent). */
  pushedBack: number;
  /** Redis calls that failed on the connection and were retried. */
  redisRetries: number;
  /** Reservation round trips (acquire.lua calls); fewer than `granted` when callers shared one. */
  reservations: number;
}

/** One reserved slot, with the round trip it came back on. */
interface Reservation {
  sentAt: number;
  receivedAt: number;
  /** From the script's reply to this slot, in ms. */
  waitMs: number;
  /** The slot on Redis's clock (µs). */
  slotUs: number;
  intervalUs: number;
}

/** A slot reserved ahead of time (`RateLimiter.reserve`). */
export interface Permit {
  /** Resolves at the slot (never before); rejects with the signal's reason on abort. Call it once. */
  atSlot(signal?: AbortSignal): Promise<void>;
  /** When the slot is, on `performance.now()`'s clock (earlier than now for a slot already due). */
  readonly slotAt: number;
}

/**
 * A caller of the next reservation round trip: a slot, or (`backlog`) only the answer to "how
 * far ahead is the schedule reserved?" (ms), which the same acquire.lua call reports.
 */
type Waiter = { reject: (err: unknown) => void; signal: AbortSignal | undefined } & (
  | { kind: 'slot'; resolve: (r: Reservation) => void; leadMs: number }
  | { kind: 'backlog'; resolve: (backlogMs: number) => void }
);

/** Slack added to a measured lateness before pushing the schedule back by it (covers the extra round trip). */
const LATE_GUARD_MS = 3;

/** Push-back round trips a permit that must be granted may take to land one within its guard. */
const MUST_PUSH_TRIES = 3;

/** Smallest size of the stale-discard token bucket, whatever the rate. */
const STALE_TOKENS_MIN = 20;

// The scripts (rate-limiter-lua/*.lua), each run after the shared prelude: server time in
// microseconds and the state with the effective rate derived from it.
const lua = (name: string) => loadLuaScript(import.meta.url, './rate-limiter-lua/prelude.lua', `./rate-limiter-lua/${name}.lua`);
const SCRIPTS = {
  acquire: lua('acquire'),
  late: lua('late'),
  throttle: lua('throttle'),
  setRate: lua('set-rate'),
  read: lua('read'),
};

function assertRate(rate: number): void {
  if (!Number.isFinite(rate) || rate <= 0) {
    throw new RangeError(`rate must be a positive number of messages per second, got ${rate}`);
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/**
 * One 'abort' listener per signal, fanned out to every waiter: a worker typically
 * shares one shutdown signal across dozens of concurrent acquires, and one listener
 * each would trip Node's MaxListeners warning.
 */
const abortWaiters = new WeakMap<AbortSignal, Set<() => void>>();

function onAbort(signal: AbortSignal, fn: () => void): () => void {
  let waiters = abortWaiters.get(signal);
  if (!waiters) {
    const set = new Set<() => void>();
    waiters = set;
    abortWaiters.set(signal, set);
    signal.addEventListener(
      'abort',
      () => {
        for (const w of [...set]) w();
        set.clear();
      },
      { once: true },
    );
  }
  const set = waiters;
  set.add(fn);
  return () => set.delete(fn);
}

/** Abort `controller` once every one of `signals` has aborted (never when one of them is undefined). Returns the unsubscribe. */
function allAborted(signals: ReadonlyArray<AbortSignal | undefined>, controller: AbortController): () => void {
  if (signals.some((s) => s === undefined)) return () => undefined;
  let left = signals.length;
  const unsubscribes = (signals as AbortSignal[]).map((s) =>
    s.aborted
      ? (left--, () => undefined)
      : onAbort(s, () => {
          if (--left === 0) controller.abort(abortReason(s));
        }),
  );
  if (left === 0) controller.abort();
  return () => unsubscribes.forEach((u) => u());
}

/** Sleep until performance.now() >= deadline; timers may fire early, so re-check. */
function sleepUntil(deadline: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    let timer: NodeJS.Timeout | undefined;
    const unsubscribe = signal
      ? onAbort(signal, () => {
          if (timer) clearTimeout(timer);
          reject(abortReason(signal));
        })
      : undefined;
    const check = (): void => {
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        unsubscribe?.();
        resolve();
        return;
      }
      timer = setTimeout(check, Math.ceil(remaining));
    };
    check();
  });
}

/** Settle with the promise, or reject as soon as the signal aborts. */
function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const unsubscribe = onAbort(signal, () => reject(abortReason(signal)));
    promise.then(
      (v) => {
        unsubscribe();
        resolve(v);
      },
      (e: unknown) => {
        unsubscribe();
        reject(e);
      },
    );
  });
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTCONN', 'EHOSTUNREACH']);

/** Connection loss or a Redis that is (re)starting: worth waiting for, unlike a script error. */
function isTransientRedisError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== undefined && TRANSIENT_CODES.has(code)) return true;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  return /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|READONLY)|Connection is closed|Stream isn't writeable/.test(err.message);
}

export class RateLimiter {
  readonly key: string;
  readonly counters: RateLimiterCounters = { granted: 0, staleSlots: 0, lateGrants: 0, pushedBack: 0, redisRetries: 0, reservations: 0 };
  /** Callers waiting for the next reservation round trip, and whether one is on its way. */
  private readonly waiting: Waiter[] = [];
  private reserving = false;
  private readonly maxBatch: number;
  private readonly redis: Redis;
  private rate: number;
  /** Assert this instance's configured rate on its first call (config wins at startup). */
  private rateAsserted = false;
  private readonly marginUs: number;
  private readonly staleMs: number;
  private readonly maxStaleRetries: number;
  private readonly staleBudget: number;
  private readonly staleBurstSeconds: number;
  private staleTokens: number;
  private readonly decreaseFactor: number;
  private readonly firstDecreaseFactor: number;
  private readonly calmUs: number;
  private readonly cooldownUs: number;
  private readonly recovery: number;
  private readonly minFraction: number;
  private readonly ttlMs: number;
  /** Latest slot (server µs) this instance was given: a floor after Redis loses state. */
  private latestSlotUs = 0;
  /** Redis clock minus performance.now(), from the tightest recent round trip. */
  private clock: { offsetMs: number; errorMs: number; at: number } | undefined;

  constructor(opts: RateLimiterOptions) {
    assertRate(opts.ratePerSecond);
    // A follower (a one-off test send, a CLI) uses the fleet's rate and never imposes its own.
    if (opts.assertRate === false) this.rateAsserted = true;
    this.redis = opts.redis;
    this.key = redisKeys(opts.prefix).rateLimit(opts.name ?? 'send');
    this.rate = opts.ratePerSecond;
    const marginMs = opts.marginMs ?? 25;
    if (!(marginMs >= 0)) throw new RangeError(`marginMs must be >= 0, got ${marginMs}`);
    this.marginUs = marginMs * 1000;
    this.staleMs = opts.staleMs ?? Math.max(0, marginMs - 5);
    this.maxStaleRetries = opts.maxStaleRetries ?? 3;
    this.staleBudget = opts.staleBudget ?? 0.1;
    this.staleBurstSeconds = opts.staleBurstSeconds ?? 0.5;
    if (!(this.staleBurstSeconds >= 0)) throw new RangeError(`staleBurstSeconds must be >= 0, got ${this.staleBurstSeconds}`);
    this.staleTokens = this.staleTokensMax();
    this.decreaseFactor = opts.decreaseFactor ?? 0.7;
    if (!(this.decreaseFactor > 0 && this.decreaseFactor < 1)) {
      throw new RangeError(`decreaseFactor must be in (0, 1), got ${this.decreaseFactor}`);
    }
    this.firstDecreaseFactor = opts.firstDecreaseFactor ?? this.decreaseFactor;
    if (!(this.firstDecreaseFactor > 0 && this.firstDecreaseFactor < 1)) {
      throw new RangeError(`firstDecreaseFactor must be in (0, 1), got ${this.firstDecreaseFactor}`);
    }
    const calmMs = opts.calmMs ?? 10_000;
    if (!(calmMs >= 0)) throw new RangeError(`calmMs must be >= 0, got ${calmMs}`);
    this.calmUs = calmMs * 1000;
    this.cooldownUs = (opts.throttleCooldownMs ?? 500) * 1000;
    this.recovery = opts.recoveryPerSecond ?? 0.05;
    this.minFraction = opts.minRateFraction ?? 0.02;
    this.ttlMs = Math.max(1000, Math.round(opts.stateTtlMs ?? 3_600_000));
    this.maxBatch = Math.max(1, Math.floor(opts.maxBatch ?? 64));
  }

  /** Resolves when this caller may send one message. Rejects with the signal's reason on abort. */
  async acquire(signal?: AbortSignal): Promise<void> {
    return (await this.reserve(0, signal)).atSlot(signal);
  }

  /**
   * A permit handed out `leadMs` before its slot: the caller does its work before the send
   * (claim, MIME, the SDK's serialization and signing) ahead of the slot and then awaits
   * `atSlot()`, which resolves at the slot itself, so that only the request follows it. The
   * slots are spaced as `acquire`'s; the caller's wake-up moves. The lateness of the permit
   * is judged at `atSlot()`, as `acquire` judges it (push back, or a fresh slot within the
   * stale budget), so work that overran the lead is caught there. A permit whose `atSlot()`
   * is never called leaves its slot unused (fewer sends, never more).
   * On a schedule reserved less than `leadMs` ahead (the start of a send, or after a pause) the
   * first slot is put `leadMs` from now rather than at once: a permit due at once leaves no time
   * for that work, comes late and gives its slot up (issue #15: most of the first permits of a
   * 500/s send did). A later slot is always as safe; one reserved further ahead is not moved.
   */
  async reserve(leadMs: number, signal?: AbortSignal): Promise<Permit> {
    if (this.clock === undefined) await this.calibrate(signal);
    signal?.throwIfAborted();
    const first = await this.reserveSlot(signal, leadMs);
    if (leadMs > 0) await sleepUntil(first.receivedAt + first.waitMs - leadMs, signal);
    let used = false;
    return {
      slotAt: first.receivedAt + first.waitMs,
      atSlot: (atSignal?: AbortSignal) => {
        if (used) return Promise.reject(new Error('a permit is used once'));
        used = true;
        return this.waitForSlot(first, atSignal ?? signal);
      },
    };
  }

  private async waitForSlot(reservation: Reservation, signal?: AbortSignal): Promise<void> {
    for (let attempt = 0, r = reservation; ; attempt++) {
      const { sentAt, receivedAt, waitMs, slotUs, intervalUs } = r;
      // The script ran between sentAt and receivedAt, so on our clock the slot lies
      // in [sentAt + wait, receivedAt + wait]: sleep to the end (never early). Judge
      // lateness against the earliest the slot can have been, narrowed by the
      // estimated offset to Redis's clock: a reply that sat unread behind a busy
      // event loop counts as late, a slow connection or Redis does not.
      await sleepUntil(receivedAt + waitMs, signal);
      const earliestSlot = Math.max(sentAt + waitMs, this.earliestLocal(slotUs / 1000));
      const lateness = performance.now() - earliestSlot;
      if (lateness <= this.staleMs) {
        this.grant();
        return;
      }
      // Out of discards (this permit's retries or the process's budget): it is granted now.
      // While the fleet keeps the schedule full, so late it would bunch with the slots after
      // it, which only pushing the schedule back makes safe, however much it costs; a schedule
      // not kept full (the workers, not the rate, are the bottleneck) is left alone.
      const mustGrant = attempt >= this.maxStaleRetries || this.staleTokens < 1;
      // Whether the schedule is kept full is asked along with the next reservation round trip
      // (at full speed, with no rate limit in reach, about half the permits of a saturated
      // worker come here, and a late.lua call each was ~0.5 Redis round trips per message);
      // only a schedule reserved at least that far ahead needs the push (late.lua re-checks).
      if (mustGrant && (await this.backlog(signal)) < performance.now() - earliestSlot) {
        this.counters.lateGrants++;
        this.grant();
        return;
      }
      // Less late than one interval: pushing the shared schedule back by the lateness costs
      // less than discarding the slot.
      if (mustGrant || lateness + LATE_GUARD_MS < intervalUs / 1000) {
        const pushed = await this.pushBack(r, earliestSlot, mustGrant, signal);
        // Not pushed, a permit that must be granted is granted late all the same (the schedule
        // was not kept full, Redis lost the state, or the push kept landing too late).
        if (pushed || mustGrant) {
          this.counters[pushed ? 'pushedBack' : 'lateGrants']++;
          this.grant();
          return;
        }
      }
      // Too late (event loop stalled): sending now could bunch with the slots after
      // ours and overfill a sliding second. Give this slot up and take a fresh one,
      // within a budget, so a starved process degrades to sending slightly early
      // rather than to a fraction of the rate.
      this.staleTokens -= 1;
      this.counters.staleSlots++;
      signal?.throwIfAborted();
      r = await this.reserveSlot(signal);
    }
  }

  private grant(): void {
    this.counters.granted++;
    this.staleTokens = Math.min(this.staleTokens + this.staleBudget, this.staleTokensMax());
  }

  /**
   * Why the bucket holds half a second of slots and starts full: a discard costs the fleet one
   * slot, a push back costs it the permit's lateness (at 500/s, a permit 20 ms late pushes
   * back 10 slots' worth), and pushes in a row add up. A stall, a GC pause or a worker's
   * warm-up makes dozens of permits late at once; with 20 tokens (10 at the start) most of
   * them pushed the schedule back (issue #15: one worker at 500/s with 200 recipients in
   * flight, 56–137 pushes per 10 s run, 78–90% of the rate, mean 83%; with this bucket no push
   * in 7 runs of 8, 87–92% in those, bench/results/send.md). A process late for ever still
   * wastes at most the bucket once, then `staleBudget` of its grants, as before.
   */
  private staleTokensMax(): number {
    return Math.max(STALE_TOKENS_MIN, Math.ceil(this.rate * this.staleBurstSeconds));
  }

  /**
   * Push every slot handed out from now on back by this permit's lateness (late.lua), so that
   * sending it now bunches with nothing. True when the push took effect before the lateness it
   * covers ran out (the push's own round trip counts: LATE_GUARD_MS of slack; a permit that must
   * be granted retries with its new lateness, MUST_PUSH_TRIES in all). For such a permit the
   * push is only made while the schedule is reserved further ahead than its lateness (otherwise
   * the fleet is not using every slot, and pushing would only slow it).
   */
  private async pushBack(r: Reservation, earliestSlot: number, mustGrant: boolean, signal?: AbortSignal): Promise<boolean> {
    for (let i = 0; i < (mustGrant ? MUST_PUSH_TRIES : 1); i++) {
      const pushedBy = performance.now() - earliestSlot + LATE_GUARD_MS;
      const args = [r.slotUs.toFixed(3), Math.ceil(pushedBy * 1000), r.intervalUs.toFixed(3), this.ttlMs, mustGrant ? 1 : 0];
      // 1 pushed, 0 not possible, 2 not needed (the schedule is not kept full).
      if ((await this.call(SCRIPTS.late, args, signal)) !== 1) return false;
      if (performance.now() - earliestSlot <= pushedBy) return true;
    }
    return false;
  }

  /**
   * One slot of the shared schedule for one caller. Callers that ask while a reservation is on
   * its way to Redis wait for it to come back and then share ONE script call, which reserves
   * consecutive slots for all of them (acquire.lua with a count): the same slots as that many
   * calls in a row, one interval apart, so the bound is unchanged; a process at high rate
   * pays one round trip per batch instead of one per permit. Each caller still sleeps until
   * its own slot and judges its own lateness. A caller aborted while queued is left out; one
   * aborted after its slot was reserved leaves that slot unused (fewer sends, never more).
   */
  private reserveSlot(signal?: AbortSignal, leadMs = 0): Promise<Reservation> {
    return this.enqueue<Reservation>((resolve, reject) => ({ kind: 'slot', resolve, reject, signal, leadMs }), signal);
  }

  /**
   * How far ahead of now the shared schedule is reserved (ms), as the next reservation round
   * trip finds it (after its own slots): asked along with the reservations waiting for that
   * round trip, so at a high rate it costs no call of its own.
   */
  private backlog(signal?: AbortSignal): Promise<number> {
    return this.enqueue<number>((resolve, reject) => ({ kind: 'backlog', resolve, reject, signal }), signal);
  }

  /** Queue a caller for the next reservation round trip (starting one if none is on its way); rejects at once on abort. */
  private enqueue<T>(waiter: (resolve: (value: T) => void, reject: (err: unknown) => void) => Waiter, signal?: AbortSignal): Promise<T> {
    const queued = new Promise<T>((resolve, reject) => {
      this.waiting.push(waiter(resolve, reject));
      if (!this.reserving) void this.reserveWaiting();
    });
    return abortable(queued, signal);
  }

  private async reserveWaiting(): Promise<void> {
    this.reserving = true;
    try {
      while (this.waiting.length > 0) {
        // A caller aborted while queued is left out, and settled: nothing else would settle it.
        const batch: Waiter[] = [];
        for (const w of this.waiting.splice(0, this.maxBatch)) {
          if (w.signal?.aborted) w.reject(abortReason(w.signal));
          else batch.push(w);
        }
        if (batch.length === 0) continue;
        const assert = !this.rateAsserted;
        const sentAt = performance.now();
        // Retried while Redis is away, until every caller of the batch has given up (aborted).
        const gaveUp = new AbortController();
        const unsubscribe = allAborted(batch.map((w) => w.signal), gaveUp);
        const slots = batch.filter((w) => w.kind === 'slot');
        // The first slot leaves the longest lead of the batch (acquire.lua): only while the
        // schedule is reserved less far ahead than that, i.e. at a start or after a pause.
        const leadUs = Math.max(0, ...slots.map((w) => w.leadMs)) * 1000;
        let reply: [number, string, string, string, string, string];
        try {
          reply = (await this.call(
            SCRIPTS.acquire,
            [this.rate, assert ? 1 : 0, this.marginUs, this.ttlMs, this.recovery, this.latestSlotUs.toFixed(3), slots.length, Math.round(leadUs)],
            gaveUp.signal,
          )) as [number, string, string, string, string, string];
        } catch (err) {
          for (const w of batch) w.reject(err);
          continue;
        } finally {
          unsubscribe();
        }
        const receivedAt = performance.now();
        if (assert) this.rateAsserted = true;
        this.observeClock(Number(reply[3]) / 1000, sentAt, receivedAt);
        for (const w of batch) if (w.kind === 'backlog') w.resolve(Number(reply[5]) / 1000);
        if (slots.length === 0) continue;
        const firstSlotUs = Number(reply[1]);
        const intervalUs = Number(reply[4]);
        const lastSlotUs = firstSlotUs + (slots.length - 1) * intervalUs;
        if (lastSlotUs > this.latestSlotUs) this.latestSlotUs = lastSlotUs;
        const firstWaitMs = Number(reply[0]) / 1000;
        this.counters.reservations++;
        slots.forEach((w, i) => w.resolve({ sentAt, receivedAt, waitMs: firstWaitMs + (i * intervalUs) / 1000, slotUs: firstSlotUs + i * intervalUs, intervalUs }));
      }
    } finally {
      this.reserving = false;
    }
  }

  /** One TIME round trip once connected, so the first slots are judged with a tight clock estimate. */
  private async calibrate(signal?: AbortSignal): Promise<void> {
    for (let i = 0; i < 2; i++) {
      const sentAt = performance.now();
      const [sec, usec] = await this.callRaw(() => this.redis.time(), signal);
      this.observeClock(Number(sec) * 1000 + Number(usec) / 1000, sentAt, performance.now());
    }
  }

  /**
   * Keep the offset between Redis's clock and ours from the round trip with the
   * smallest uncertainty (half its duration), aged by an allowance for clock slew.
   */
  private observeClock(serverMs: number, sentAt: number, receivedAt: number): void {
    const sample = { offsetMs: serverMs - (sentAt + receivedAt) / 2, errorMs: (receivedAt - sentAt) / 2, at: receivedAt };
    if (this.clock === undefined || sample.errorMs <= this.clockError(receivedAt)) this.clock = sample;
  }

  private clockError(at: number): number {
    if (this.clock === undefined) return Infinity;
    // 0.5 ms per second: the most NTP slews a clock (500 ppm), on either side.
    return this.clock.errorMs + ((at - this.clock.at) / 1000) * 0.5 * 2;
  }

  /** The earliest local time a server timestamp can correspond to. */
  private earliestLocal(serverMs: number): number {
    if (this.clock === undefined) return -Infinity;
    return serverMs - this.clock.offsetMs - this.clockError(performance.now());
  }

  /** SES said slow down: lower the shared effective rate (at most once per cooldown; gently after a calm spell). */
  async reportThrottled(): Promise<void> {
    await this.call(SCRIPTS.throttle, [
      this.rate,
      this.decreaseFactor,
      this.cooldownUs,
      this.recovery,
      this.minFraction,
      this.ttlMs,
      this.firstDecreaseFactor,
      this.calmUs,
    ]);
  }

  /** Set the configured (target) rate for the whole fleet. */
  async setRate(ratePerSecond: number): Promise<void> {
    assertRate(ratePerSecond);
    this.rate = ratePerSecond;
    await this.call(SCRIPTS.setRate, [ratePerSecond, this.recovery, this.ttlMs]);
    this.rateAsserted = true;
  }

  /** The rate permits are currently spaced for (configured rate, lowered after throttling). */
  async effectiveRate(): Promise<number> {
    return Number(await this.call(SCRIPTS.read, [this.rate, this.recovery]));
  }

  /**
   * EVALSHA, loading the script on NOSCRIPT (after a Redis restart), and retrying
   * while Redis is unreachable or still loading: a restart delays permits, it does
   * not fail the sends waiting for them.
   */
  private call(s: LuaScript, args: (string | number)[], signal?: AbortSignal): Promise<unknown> {
    return this.callRaw(async () => {
      try {
        return await this.redis.evalsha(s.sha, 1, this.key, ...args);
      } catch (err) {
        if (!errorMessage(err).startsWith('NOSCRIPT')) throw err;
        return await this.redis.eval(s.source, 1, this.key, ...args);
      }
    }, signal);
  }

  private async callRaw<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    let backoffMs = 50;
    for (;;) {
      try {
        return await abortable(fn(), signal);
      } catch (err) {
        if (signal?.aborted) throw abortReason(signal);
        if (!isTransientRedisError(err)) throw err;
        this.counters.redisRetries++;
        await sleepUntil(performance.now() + backoffMs, signal);
        backoffMs = Math.min(backoffMs * 2, 1000);
      }
    }
  }
}
