// js/src/core-protocol.ts: the TypeScript face of the low-level CoreCache that both hosts expose
// (bindings/PROTOCOL.md is the contract; bindings/addon.cc and wasm/core_cache.mjs implement it).
//
// Nothing here is for users: cache.ts wraps it. Invariants kept by the hosts and relied on here:
// every call is synchronous, a failed call throws an Error with a string `code` and changes
// nothing, and every duration/remaining time crossing the boundary is in milliseconds with NaN
// meaning "absent" and +Infinity meaning "never".

/** [state, freshRemainingMs, staleRemainingMs]; state 0 miss, 1 fresh, 2 stale. */
export type LookupOut = Float64Array;
/** [ref, freshUntilMs, staleUntilMs, pendingRemovals] after a set (or a written add) with `out`. */
export type WriteOut = Float64Array;

export interface CoreCache {
  get(key: string, now: number, out: LookupOut): Uint8Array | null;
  peek(key: string, now: number, out: LookupOut): Uint8Array | null;
  has(key: string, now: number): number;
  set(
    key: string,
    value: Uint8Array,
    ttlMs: number,
    graceMs: number,
    tags: readonly string[] | null,
    now: number,
    out?: WriteOut,
  ): void;
  /**
   * set only if no live entry (fresh, or stale within its grace) holds the key: true when it
   * wrote (then `out` is filled as set fills it), false when the held entry was kept (`out`
   * untouched). Atomic in the core: of concurrent adds of one key exactly one gets true.
   */
  add(
    key: string,
    value: Uint8Array,
    ttlMs: number,
    graceMs: number,
    tags: readonly string[] | null,
    now: number,
    out?: WriteOut,
  ): boolean;
  delete(key: string): boolean;
  /**
   * Replays refs[0..count) to the policy (each a hit in the stats), then `missedKeys` (each a
   * miss the policy hears of, as a get that missed), then counts the answers it did not replay:
   * `misses` without keys, `hits` and `staleHits`.
   */
  touch(
    refs: Uint32Array,
    count: number,
    misses: number,
    hits?: number,
    staleHits?: number,
    missedKeys?: readonly string[] | null,
  ): void;
  drainRemovals(out: Uint32Array): number;
  pendingRemovals(): number;
  invalidateTag(tag: string): number;
  invalidatePrefix(prefix: string): number;
  invalidatePattern(glob: string): number;
  clear(): number;
  maintenance(now: number): number;
  entries(): number;
  bytes(): number;
  statsJson(): string;
  close(): void;
}

export interface HostOptions {
  trackRemovals?: boolean;
  name?: string;
}

/** What a loaded backend offers: a factory, durations, and (native only) the named registry. */
export interface Backend {
  readonly name: 'native' | 'wasm';
  create(optionsJson: string, host: HostOptions): CoreCache;
  open(name: string): CoreCache;
  parseDuration(text: string): number;
}

export const LOOKUP_MISS = 0;
export const LOOKUP_FRESH = 1;
export const LOOKUP_STALE = 2;
/** Or'ed into a ref given to touch(): the hit was answered stale (core's kStaleAnswer). */
export const STALE_ANSWER_BIT = 2 ** 30;
