/**
 * The audience size the send confirmation states ("2,431 subscribers at 14/s ≈ 2 min 54 s"),
 * without counting a list's memberships on each page view (a pass over a million of them costs
 * ~450 ms on PostgreSQL). Owner of `list_audience_sizes` (migration 0021): the last count of
 * each list and the instant it was taken.
 *
 * Policy (stale-while-revalidate, as listmonk's cached list counts): a count younger than
 * `refreshAfterMs` is shown as it is; an older one is shown at once and recounted behind the
 * request, so the next view has it; a list never counted is counted in the request. One recount
 * per list at a time in a process; between servers, the later count wins (storeSize).
 * Campaigns never read this cache: a start freezes and counts its own audience exactly.
 */
import type { AudienceFilter, StoredAudienceSize } from '../store/audience-repository.js';

export type { StoredAudienceSize };

export interface AudienceSizeStore {
  storedSize(listId: number): Promise<StoredAudienceSize | undefined>;
  storeSize(listId: number, size: StoredAudienceSize): Promise<void>;
  audienceCount(filter: AudienceFilter): Promise<number>;
}

/** How long a count is shown without a recount behind it. */
export const AUDIENCE_REFRESH_AFTER_MS = 30_000;

export type SizeFreshness = 'fresh' | 'stale' | 'missing';

/** Pure: what to do with a stored count at `now`. */
export function sizeFreshness(stored: StoredAudienceSize | undefined, now: number, refreshAfterMs: number): SizeFreshness {
  if (!stored) return 'missing';
  return now - stored.countedAt < refreshAfterMs ? 'fresh' : 'stale';
}

export interface AudienceSizesOptions {
  now?: () => number;
  refreshAfterMs?: number;
  /** A background recount that failed (the request already has its answer). */
  onError?: (err: unknown, listId: number) => void;
}

export class AudienceSizes {
  private readonly counting = new Map<number, Promise<StoredAudienceSize>>();
  private readonly now: () => number;
  private readonly refreshAfterMs: number;

  constructor(
    private readonly store: AudienceSizeStore,
    private readonly options: AudienceSizesOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.refreshAfterMs = options.refreshAfterMs ?? AUDIENCE_REFRESH_AFTER_MS;
  }

  /** The list's audience size and when it was counted. */
  async size(listId: number): Promise<StoredAudienceSize> {
    const stored = await this.store.storedSize(listId);
    switch (sizeFreshness(stored, this.now(), this.refreshAfterMs)) {
      case 'fresh':
        return stored!;
      case 'stale':
        this.recount(listId).catch((err: unknown) => this.options.onError?.(err, listId));
        return stored!;
      case 'missing':
        return this.recount(listId);
    }
  }

  /** Count the list now and store it; a recount already running in this process is shared. */
  recount(listId: number): Promise<StoredAudienceSize> {
    const running = this.counting.get(listId);
    if (running) return running;
    const p = (async () => {
      const countedAt = this.now();
      const size = { n: await this.store.audienceCount({ listId }), countedAt };
      await this.store.storeSize(listId, size);
      return size;
    })().finally(() => this.counting.delete(listId));
    this.counting.set(listId, p);
    return p;
  }

  /** Settles once no recount of this process is running (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.counting.size > 0) await Promise.allSettled([...this.counting.values()]);
  }
}
