// js/src/nest/key-usage.ts: per-key hit/stale/miss counts of the reads made through the Nest
// integration (TickCacheInterceptor, @Cacheable), for the admin report's "top keys".
//
// Invariants: memory is bounded: at most `capacity` keys are tracked; when a new key would
// exceed it, the less-read half is forgotten (amortized O(1) per read), so keys that stay hot
// survive and a scan of one-off keys cannot grow the table. One table per TieredCache
// (a WeakMap: it goes away with the cache).

export type ReadOutcome = 'hit' | 'stale' | 'miss';

export interface KeyUsageEntry {
  key: string;
  hits: number;
  stale: number;
  misses: number;
  /** (hits + stale) / reads. */
  hitRate: number;
}

interface Counts {
  hits: number;
  stale: number;
  misses: number;
}

const DEFAULT_CAPACITY = 10_000;

export class KeyUsage {
  private readonly counts = new Map<string, Counts>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  record(key: string, outcome: ReadOutcome): void {
    let counts = this.counts.get(key);
    if (counts === undefined) {
      if (this.counts.size >= this.capacity) this.forgetColdHalf();
      counts = { hits: 0, stale: 0, misses: 0 };
      this.counts.set(key, counts);
    }
    if (outcome === 'hit') counts.hits++;
    else if (outcome === 'stale') counts.stale++;
    else counts.misses++;
  }

  /** The `limit` most-read keys, most-read first. */
  top(limit = 10): KeyUsageEntry[] {
    return [...this.counts.entries()]
      .map(([key, c]) => {
        const reads = c.hits + c.stale + c.misses;
        return { key, hits: c.hits, stale: c.stale, misses: c.misses, hitRate: reads === 0 ? 0 : (c.hits + c.stale) / reads };
      })
      .sort((a, b) => b.hits + b.stale + b.misses - (a.hits + a.stale + a.misses) || (a.key < b.key ? -1 : 1))
      .slice(0, Math.max(0, limit));
  }

  get size(): number {
    return this.counts.size;
  }

  reset(): void {
    this.counts.clear();
  }

  private forgetColdHalf(): void {
    const byReads = [...this.counts.entries()].sort(
      ([, a], [, b]) => a.hits + a.stale + a.misses - (b.hits + b.stale + b.misses),
    );
    for (const [key] of byReads.slice(0, Math.ceil(byReads.length / 2))) this.counts.delete(key);
  }
}

const tables = new WeakMap<object, KeyUsage>();

/** The key usage table of `cache` (created on first use). */
export function keyUsageOf(cache: object): KeyUsage {
  let table = tables.get(cache);
  if (table === undefined) {
    table = new KeyUsage();
    tables.set(cache, table);
  }
  return table;
}

/** The read outcome of a getOrSetStored source. */
export function outcomeOf(source: 'l1' | 'l1-stale' | 'l2' | 'loader'): ReadOutcome {
  return source === 'l1' || source === 'l2' ? 'hit' : source === 'l1-stale' ? 'stale' : 'miss';
}
