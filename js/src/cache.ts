// js/src/cache.ts: the Cache users hold, in its two value modes, over one CoreCache (either host).
//
// object mode: values stay on the JS heap, by reference. A hit is answered here, from a Map of
//   key -> FrontEntry, without crossing into the host: the access goes into a read buffer, a
//   ring of the last READ_BUFFER_REFS refs, that the core's policy replays (touch) before any
//   call that lets it decide something (a write, an invalidation, stats). Like Caffeine's read
//   buffer it is lossy: in a run of more reads than it holds, the oldest are dropped from the
//   policy's view (they are still counted as hits). Eviction only happens on writes, and every
//   write replays the buffer first, so the policy sees every read between two writes as long as
//   there are at most READ_BUFFER_REFS of them. Misses keep their keys, the last
//   MISSED_KEYS_KEPT of them, replayed with the hits (the core's W-TinyLFU learns a key's
//   frequency from its misses: a key missed often is admitted over a rarely used victim); misses
//   beyond that are only counted. The core
//   stays the authority on what is cached: every write goes through it and every entry it
//   removes (eviction, rejection, expiry, invalidation) comes back as a removal notice that is
//   drained right after the call that caused it, so the Map never holds an entry the core
//   dropped for longer than that call.
// bytes mode: values are serialized (serializer.ts) into the host's memory, off the V8 heap;
//   every call crosses into the host.
// Invariants of both: a failed call throws a TickcacheError and leaves the cache as it was;
// after close() every call throws code `closed`.

import type { Backend, CoreCache } from './core-protocol.js';
import { LOOKUP_FRESH, LOOKUP_MISS, STALE_ANSWER_BIT } from './core-protocol.js';
import { TickcacheError, fromHostError } from './errors.js';
import { DurationReader, checkTags } from './options.js';
import { ValueCodec } from './serializer.js';
import type {
  BackendInfo,
  BackendName,
  CacheEntry,
  CacheOptions,
  CacheStats,
  Duration,
  SetManyEntry,
  SetOptions,
  ValueMode,
} from './types.js';

export interface Cache<V = unknown> {
  readonly backend: BackendName;
  readonly backendInfo: BackendInfo;
  readonly mode: ValueMode;
  /** Entries held now. */
  readonly size: number;
  /** Charged bytes held now (key + value + metadata; object mode: no value bytes). */
  readonly bytes: number;
  /** The value, fresh or within its grace; undefined on a miss. */
  get(key: string): V | undefined;
  /** The value with its freshness and remaining times; undefined on a miss. */
  getEntry(key: string): CacheEntry<V> | undefined;
  /** As getEntry, without counting as an access (no effect on eviction or stats). */
  peek(key: string): CacheEntry<V> | undefined;
  has(key: string): boolean;
  /** Milliseconds until the value turns stale (Infinity: never; 0: stale); undefined if absent. */
  remainingTtl(key: string): number | undefined;
  set(key: string, value: V, options?: SetOptions): void;
  /**
   * set, only if no live entry (fresh, or stale within its grace) holds the key: true when it
   * wrote, false when the entry there was kept as it was. An entry past its grace counts as
   * absent. Atomic in the core, so of the worker_threads sharing a named cache that add one key
   * at once exactly one gets true: a lock entry (its TTL is the lock's expiry).
   */
  add(key: string, value: V, options?: SetOptions): boolean;
  delete(key: string): boolean;
  getMany(keys: readonly string[]): Array<V | undefined>;
  setMany(entries: ReadonlyArray<SetManyEntry<V>>): void;
  invalidateTag(tag: string): number;
  invalidatePrefix(prefix: string): number;
  invalidatePattern(pattern: string): number;
  clear(): number;
  /** A duration in ms, read as every TTL of this cache is (Infinity for "never"). */
  parseDuration(duration: Duration): number;
  /** Expires what is due now; returns how many entries left. Runs by itself during writes too. */
  maintenance(): number;
  stats(): CacheStats;
  close(): void;
}

const READ_BUFFER_REFS = 1024; // a power of two: the ring index is a mask
const READ_BUFFER_MASK = READ_BUFFER_REFS - 1;
const MISSED_KEYS_KEPT = 1024; // a power of two, as the read buffer
const MISSED_KEYS_MASK = MISSED_KEYS_KEPT - 1;
const DRAIN_PAIRS = 256;
const FRONT_INITIAL_SLOTS = 64;

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') {
    throw new TickcacheError('invalid_key', `a key must be a string, got ${key === null ? 'null' : typeof key}`);
  }
}

function checkSetOptions(options: unknown): SetOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TickcacheError('invalid_argument', 'set options must be an object { ttl, grace, tags }');
  }
  return options as SetOptions;
}

/** What both modes share: the host object, the clock, durations and the calls that need no value. */
abstract class CacheBase<V> implements Cache<V> {
  abstract readonly mode: ValueMode;
  readonly backend: BackendName;
  protected readonly now: () => number;
  protected readonly durations: DurationReader;
  protected readonly lookupOut = new Float64Array(3);
  protected closed = false;

  constructor(
    protected readonly core: CoreCache,
    backend: Backend,
    readonly backendInfo: BackendInfo,
    options: CacheOptions,
  ) {
    this.backend = backend.name;
    this.now = options.clock ?? Date.now;
    this.durations = new DurationReader(backend);
  }

  abstract get(key: string): V | undefined;
  abstract getEntry(key: string): CacheEntry<V> | undefined;
  abstract peek(key: string): CacheEntry<V> | undefined;
  abstract has(key: string): boolean;
  abstract set(key: string, value: V, options?: SetOptions): void;
  abstract add(key: string, value: V, options?: SetOptions): boolean;
  abstract delete(key: string): boolean;
  protected abstract afterRemovals(): void;
  /** Called before any call that lets the core decide something: hits not yet reported go first. */
  protected abstract reportAccesses(): void;

  get size(): number {
    return this.call(() => this.core.entries());
  }

  get bytes(): number {
    return this.call(() => this.core.bytes());
  }

  remainingTtl(key: string): number | undefined {
    return this.peek(key)?.ttl;
  }

  parseDuration(duration: Duration): number {
    return this.durations.toMs('ttl', duration);
  }

  getMany(keys: readonly string[]): Array<V | undefined> {
    if (!Array.isArray(keys)) throw new TickcacheError('invalid_argument', 'getMany takes an array of keys');
    keys.forEach(checkKey);
    return keys.map((key) => this.get(key));
  }

  setMany(entries: ReadonlyArray<SetManyEntry<V>>): void {
    if (!Array.isArray(entries)) {
      throw new TickcacheError('invalid_argument', 'setMany takes an array of { key, value, ttl?, grace?, tags? }');
    }
    // All checked before the first write, so a bad entry leaves the cache as it was.
    const prepared = entries.map((entry: unknown) => {
      if (typeof entry !== 'object' || entry === null) {
        throw new TickcacheError('invalid_argument', 'setMany entries are objects { key, value, ... }');
      }
      const { key, value, ...options } = entry as SetManyEntry<V>;
      checkKey(key);
      this.validateWrite(value, options);
      return entry as SetManyEntry<V>;
    });
    for (const { key, value, ...options } of prepared) this.set(key, value, options);
  }

  invalidateTag(tag: string): number {
    return this.invalidate('tag', tag, (text) => this.core.invalidateTag(text));
  }

  invalidatePrefix(prefix: string): number {
    return this.invalidate('prefix', prefix, (text) => this.core.invalidatePrefix(text));
  }

  invalidatePattern(pattern: string): number {
    return this.invalidate('pattern', pattern, (text) => this.core.invalidatePattern(text));
  }

  clear(): number {
    return this.mutate(() => this.core.clear());
  }

  maintenance(): number {
    return this.mutate(() => this.core.maintenance(this.now()));
  }

  stats(): CacheStats {
    this.reportAccesses();
    const parsed = JSON.parse(this.call(() => this.core.statsJson())) as CacheStats;
    return { ...parsed, backend: this.backend, mode: this.mode };
  }

  close(): void {
    if (!this.closed) this.reportAccessesQuietly();
    this.call(() => this.core.close());
    this.closed = true;
  }

  /** Checks a value and its options as set would, without writing: the ttl/grace in ms and tags. */
  protected prepareWrite(value: V, options: SetOptions | undefined) {
    if (value === undefined) {
      throw new TickcacheError('invalid_value', 'undefined is not a value (delete the key instead)');
    }
    const checked = checkSetOptions(options);
    return {
      ttl: this.durations.toMs('ttl', checked.ttl),
      grace: this.durations.toMs('grace', checked.grace),
      tags: checkTags(checked.tags),
    };
  }

  /** Everything set would refuse, refused without writing (setMany checks a batch first). */
  protected validateWrite(value: V, options: SetOptions | undefined): void {
    this.prepareWrite(value, options);
  }

  /** Runs a host call, turning what it throws into a TickcacheError. */
  protected call<T>(run: () => T): T {
    try {
      return run();
    } catch (error) {
      throw fromHostError(error);
    }
  }

  /** A host call that may remove entries: accesses reported before, removals drained after. */
  protected mutate<T>(run: () => T): T {
    this.reportAccesses();
    try {
      return this.call(run);
    } finally {
      this.afterRemovals();
    }
  }

  private invalidate(what: string, text: unknown, run: (text: string) => number): number {
    if (typeof text !== 'string') {
      throw new TickcacheError('invalid_argument', `the ${what} must be a string, got ${typeof text}`);
    }
    return this.mutate(() => run(text));
  }

  private reportAccessesQuietly(): void {
    try {
      this.reportAccesses();
    } catch {
      // Closing must not fail because the last batch of hits could not be reported.
    }
  }

  protected entryFrom(value: V, out: Float64Array): CacheEntry<V> {
    return {
      value,
      state: out[0] === LOOKUP_FRESH ? 'fresh' : 'stale',
      ttl: out[1]!,
      staleTtl: out[2]!,
    };
  }
}

/**
 * The object-mode front's entries, as parallel arrays indexed by a dense slot number (`i`), the
 * way lru-cache lays out its own: a hit is one Map lookup (key -> i, a small integer) and one
 * array load, with no entry object between them. `refs[i]` is the core's EntryRef of slot i.
 * Times are absolute epoch ms, Infinity for never. `expiring` counts slots whose freshUntil is
 * finite: while it is 0, no hit needs a clock read.
 */
class FrontSlots<V> {
  readonly byKey = new Map<string, number>();
  readonly byRef = new Map<number, number>();
  keys: Array<string | undefined> = [];
  values: Array<V | undefined> = [];
  refs = new Uint32Array(FRONT_INITIAL_SLOTS);
  freshUntil = new Float64Array(FRONT_INITIAL_SLOTS);
  staleUntil = new Float64Array(FRONT_INITIAL_SLOTS);
  expiring = 0;
  private readonly free: number[] = [];
  private used = 0;

  /** Installs a write the core made: in place when the core kept the slot (same key, same ref). */
  install(key: string, value: V, ref: number, freshUntil: number, staleUntil: number): void {
    let i = this.byRef.get(ref);
    if (i === undefined || this.keys[i] !== key) {
      i = this.allocate();
      this.keys[i] = key;
      this.refs[i] = ref;
      this.byKey.set(key, i);
      this.byRef.set(ref, i);
    } else if (this.freshUntil[i] !== Infinity) {
      this.expiring--;
    }
    this.values[i] = value;
    this.freshUntil[i] = freshUntil;
    this.staleUntil[i] = staleUntil;
    if (freshUntil !== Infinity) this.expiring++;
  }

  /** Drops the slot the core's entry `ref` had, if the front holds it. */
  removeRef(ref: number): void {
    const i = this.byRef.get(ref);
    if (i === undefined) return;
    this.byRef.delete(ref);
    const key = this.keys[i]!;
    if (this.byKey.get(key) === i) this.byKey.delete(key);
    if (this.freshUntil[i] !== Infinity) this.expiring--;
    this.keys[i] = undefined;
    this.values[i] = undefined; // let the value be collected
    this.free.push(i);
  }

  clear(): void {
    this.byKey.clear();
    this.byRef.clear();
    this.keys = [];
    this.values = [];
    this.free.length = 0;
    this.used = 0;
    this.expiring = 0;
  }

  private allocate(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.used === this.refs.length) this.grow();
    return this.used++;
  }

  private grow(): void {
    const size = this.refs.length * 2;
    const refs = new Uint32Array(size);
    refs.set(this.refs);
    this.refs = refs;
    const freshUntil = new Float64Array(size);
    freshUntil.set(this.freshUntil);
    this.freshUntil = freshUntil;
    const staleUntil = new Float64Array(size);
    staleUntil.set(this.staleUntil);
    this.staleUntil = staleUntil;
  }
}

export class ObjectCache<V> extends CacheBase<V> {
  readonly mode = 'object' as const;
  private readonly slots = new FrontSlots<V>();
  // The read buffer holds front slot numbers (stale ones with STALE_ANSWER_BIT); they are
  // turned into the core's refs when replayed. A slot recorded here cannot be freed before the
  // replay: slots are freed only by removals, which only follow a write, and every write
  // replays the buffer first.
  private readonly readBuffer = new Uint32Array(READ_BUFFER_REFS);
  private readonly replay = new Uint32Array(READ_BUFFER_REFS);
  private reads = 0; // hits since the last replay; the buffer keeps the last READ_BUFFER_REFS
  private staleReads = 0;
  // The keys of the misses since the last replay: a ring of the last MISSED_KEYS_KEPT (plain
  // appends until it wraps). Only the miss path writes here.
  private readonly missedKeys: string[] = [];
  private missed = 0;
  private readonly writeOut = new Float64Array(4);
  private readonly drainOut = new Uint32Array(DRAIN_PAIRS * 2);
  private static readonly NO_BYTES = new Uint8Array(0);

  get(key: string): V | undefined {
    const slots = this.slots;
    const i = slots.byKey.get(key);
    if (i === undefined) return this.miss(key);
    if (slots.expiring !== 0) {
      const freshUntil = slots.freshUntil[i]!;
      if (freshUntil !== Infinity) {
        const now = this.now();
        if (now >= freshUntil) {
          if (now >= slots.staleUntil[i]!) return this.miss(key);
          this.recordStale(i);
          return slots.values[i];
        }
      }
    }
    this.readBuffer[this.reads++ & READ_BUFFER_MASK] = i; // the hot path: no host call
    return slots.values[i];
  }

  getEntry(key: string): CacheEntry<V> | undefined {
    const found = this.lookup(key);
    if (found === undefined) return this.miss(key);
    if (found.entry.state === 'fresh') this.readBuffer[this.reads++ & READ_BUFFER_MASK] = found.slot;
    else this.recordStale(found.slot);
    return found.entry;
  }

  peek(key: string): CacheEntry<V> | undefined {
    const found = this.lookup(key);
    if (found === undefined) this.checkUsable(key);
    return found?.entry;
  }

  has(key: string): boolean {
    const found = this.lookup(key) !== undefined;
    if (!found) this.checkUsable(key);
    return found;
  }

  set(key: string, value: V, options?: SetOptions): void {
    this.write(key, value, options, false);
  }

  add(key: string, value: V, options?: SetOptions): boolean {
    return this.write(key, value, options, true);
  }

  delete(key: string): boolean {
    checkKey(key);
    this.checkOpen();
    return this.mutate(() => this.core.delete(key));
  }

  override close(): void {
    super.close();
    this.slots.clear();
  }

  protected reportAccesses(): void {
    if (this.reads === 0 && this.missed === 0) return;
    const reads = this.reads;
    const kept = Math.min(reads, READ_BUFFER_REFS);
    // Oldest read first (the ring may have wrapped), so recency comes out right; slot numbers
    // become the core's refs on the way.
    const oldest = reads > READ_BUFFER_REFS ? reads & READ_BUFFER_MASK : 0;
    const refs = this.slots.refs;
    let staleKept = 0;
    for (let n = 0; n < kept; n++) {
      const recorded = this.readBuffer[(oldest + n) & READ_BUFFER_MASK]!;
      if (recorded >= STALE_ANSWER_BIT) {
        staleKept++;
        this.replay[n] = refs[recorded - STALE_ANSWER_BIT]! | STALE_ANSWER_BIT;
      } else {
        this.replay[n] = refs[recorded]!;
      }
    }
    // touch() counts the hits and the missed keys it replays; the dropped ones are counted apart.
    const droppedStale = this.staleReads - staleKept;
    const droppedFresh = reads - kept - droppedStale;
    const missed = this.missed;
    let missedKeys = this.missedKeys;
    if (missed > MISSED_KEYS_KEPT) {
      const wrap = missed & MISSED_KEYS_MASK; // the oldest kept key: replayed first
      missedKeys = missedKeys.slice(wrap).concat(missedKeys.slice(0, wrap));
    }
    const droppedMisses = missed - missedKeys.length;
    this.reads = 0;
    this.staleReads = 0;
    this.missed = 0;
    // The core replays the hits, then the missed keys. A write reports first, so in the usual
    // get-miss-then-set the key about to be written was missed last and reaches the policy just
    // before its write, as Get-then-Set has it in bytes mode.
    const keys = missed === 0 ? null : missedKeys;
    try {
      this.call(() => this.core.touch(this.replay, kept, droppedMisses, droppedFresh, droppedStale, keys));
    } finally {
      this.missedKeys.length = 0;
    }
  }

  protected afterRemovals(): void {
    if (this.closed) return;
    for (;;) {
      let pairs: number;
      try {
        pairs = this.core.drainRemovals(this.drainOut);
      } catch {
        return; // closed underneath us: nothing left to mirror
      }
      for (let n = 0; n < pairs; n++) this.slots.removeRef(this.drainOut[2 * n]!);
      if (pairs < DRAIN_PAIRS) return;
    }
  }

  /** set and add: the core decides; the front mirrors only a write that happened. */
  private write(key: string, value: V, options: SetOptions | undefined, onlyIfAbsent: boolean): boolean {
    checkKey(key);
    this.checkOpen();
    const { ttl, grace, tags } = this.prepareWrite(value, options);
    const out = this.writeOut;
    this.reportAccesses();
    let written = true;
    try {
      if (onlyIfAbsent) written = this.core.add(key, ObjectCache.NO_BYTES, ttl, grace, tags, this.now(), out);
      else this.core.set(key, ObjectCache.NO_BYTES, ttl, grace, tags, this.now(), out);
    } catch (error) {
      throw fromHostError(error); // a failed write removed nothing and wrote nothing
    }
    // A refused add changed nothing in the core, so there is nothing to mirror or drain (and
    // `out` still holds the last write's numbers).
    if (!written) return false;
    // Installed before the removals are drained: if the policy refused or evicted the new entry
    // at once, its notice comes in that drain and takes it out again.
    this.slots.install(key, value, out[0]!, out[1]!, out[2]!);
    if (out[3]! > 0) this.afterRemovals();
    return true;
  }

  private lookup(key: string): { entry: CacheEntry<V>; slot: number } | undefined {
    const slots = this.slots;
    const i = slots.byKey.get(key);
    if (i === undefined) return undefined;
    const now = this.now();
    const freshUntil = slots.freshUntil[i]!;
    const staleUntil = slots.staleUntil[i]!;
    if (now >= staleUntil) return undefined;
    const state = now < freshUntil ? 'fresh' : 'stale';
    return {
      slot: i,
      entry: {
        value: slots.values[i] as V,
        state,
        ttl: state === 'fresh' ? freshUntil - now : 0,
        staleTtl: staleUntil - now,
      },
    };
  }

  private miss(key: string): undefined {
    this.checkUsable(key);
    this.missedKeys[this.missed++ & MISSED_KEYS_MASK] = key;
    return undefined;
  }

  private recordStale(slot: number): void {
    this.staleReads++;
    this.readBuffer[this.reads++ & READ_BUFFER_MASK] = slot | STALE_ANSWER_BIT;
  }

  /** Why a key found nothing may be a caller's mistake: say so rather than answer a miss. */
  private checkUsable(key: unknown): void {
    checkKey(key);
    this.checkOpen();
  }

  private checkOpen(): void {
    if (this.closed) throw new TickcacheError('closed', 'the cache was closed');
  }
}

export class BytesCache<V> extends CacheBase<V> {
  readonly mode = 'bytes' as const;
  private readonly codec: ValueCodec;

  constructor(core: CoreCache, backend: Backend, info: BackendInfo, options: CacheOptions, shared = false) {
    super(core, backend, info, options);
    // Shapes are JS memory of this realm and of this process's life: a cache other worker_threads
    // read, or one whose file store outlives the process, cannot use them.
    const persistent = options.store?.type === 'file';
    this.codec = new ValueCodec(options.serializer, { shapes: !shared && options.name === undefined && !persistent });
  }

  get(key: string): V | undefined {
    checkKey(key);
    const stored = this.call(() => this.core.get(key, this.now(), this.lookupOut));
    return stored === null ? undefined : (this.codec.decode(stored) as V);
  }

  getEntry(key: string): CacheEntry<V> | undefined {
    checkKey(key);
    const stored = this.call(() => this.core.get(key, this.now(), this.lookupOut));
    return stored === null ? undefined : this.entryFrom(this.codec.decode(stored) as V, this.lookupOut);
  }

  peek(key: string): CacheEntry<V> | undefined {
    checkKey(key);
    const stored = this.call(() => this.core.peek(key, this.now(), this.lookupOut));
    return stored === null ? undefined : this.entryFrom(this.codec.decode(stored) as V, this.lookupOut);
  }

  has(key: string): boolean {
    checkKey(key);
    return this.call(() => this.core.has(key, this.now())) !== LOOKUP_MISS;
  }

  set(key: string, value: V, options?: SetOptions): void {
    checkKey(key);
    const { ttl, grace, tags } = this.prepareWrite(value, options);
    const bytes = this.codec.encode(value);
    this.call(() => this.core.set(key, bytes, ttl, grace, tags, this.now()));
  }

  add(key: string, value: V, options?: SetOptions): boolean {
    checkKey(key);
    const { ttl, grace, tags } = this.prepareWrite(value, options);
    const bytes = this.codec.encode(value);
    return this.call(() => this.core.add(key, bytes, ttl, grace, tags, this.now()));
  }

  delete(key: string): boolean {
    checkKey(key);
    return this.call(() => this.core.delete(key));
  }

  protected override validateWrite(value: V, options: SetOptions | undefined): void {
    super.validateWrite(value, options);
    this.codec.encode(value);
  }

  protected reportAccesses(): void {}
  protected afterRemovals(): void {}
}
