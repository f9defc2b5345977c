// @ts-check
// bench/js/workload.mjs: the keys, values and operation streams every JavaScript benchmark
// contender is measured on.
//
// Invariants: everything is derived from a fixed seed, so every child process (one per
// contender) builds byte-for-byte the same workload; keys are 16 characters; values are quote
// objects whose JSON is about 100 bytes; lookup keys are distinct string objects equal to the
// inserted ones (a request builds its key afresh, it does not hold the string the cache was
// filled with).

/**
 * 16-character keys: "quote:" and a zero-padded id, as a flat string. A `+` would give V8 a cons
 * string, which the first native call flattens in place and JavaScript lookups do not: in a
 * shared process every contender's figure would then depend on whether a native contender had
 * touched the keys first (measured: 3x on a Map's get).
 * @param {number} id
 */
export function makeKey(id) {
  return ['quote:', String(id).padStart(10, '0')].join('');
}

const TICKERS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOG', 'META', 'TSLA', 'BRKB', 'JPM', 'XOM'];
const VENUES = ['XNAS', 'XNYS', 'ARCX', 'BATS'];
const EPOCH_MS = 1_732_180_000_000;

/**
 * A fresh quote object (its own strings and numbers, as JSON.parse of a feed message would give).
 * JSON.stringify of it is 93-104 bytes.
 * @param {number} id
 */
export function makeQuote(id) {
  const cents = 1000 + ((id * 7919) % 90000);
  const price = cents / 100;
  return {
    symbol: `${VENUES[id % VENUES.length]}:${TICKERS[id % TICKERS.length]}.${(id % 100000).toString(36).toUpperCase()}`,
    price,
    bid: (cents - 1) / 100,
    ask: (cents + 1) / 100,
    volume: 100000 + ((id * 104729) % 9000000),
    ts: EPOCH_MS + id,
  };
}

/** Small, fast, seedable PRNG (mulberry32): the same stream in every process. @param {number} seed */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Zipf(s) ranks in [0, n): the inverse of the cumulative weights 1/(r+1)^s, by binary search.
 * @param {number} n @param {number} s @param {() => number} random
 */
function zipfSampler(n, s, random) {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let r = 0; r < n; r++) {
    total += 1 / Math.pow(r + 1, s);
    cumulative[r] = total;
  }
  return () => {
    const target = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid] < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** @param {number} n @param {() => number} random */
function shuffledIds(n, random) {
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = ids[i];
    ids[i] = ids[j];
    ids[j] = t;
  }
  return ids;
}

export const STREAM_LENGTH = 1 << 20; // a power of two: positions wrap with a mask
export const VALUE_POOL = 4096; // a power of two
export const MIXED_SET_SHARE = 0.1;
export const ZIPF_S = 0.99; // YCSB's skew

/**
 * @typedef {object} Workload
 * @property {number} entries      keys held by the get-hit and set caches
 * @property {number} mixedCapacity the capacity of the bounded caches in the mixed workload
 * @property {number} mixedUniverse distinct keys the mixed workload draws from (> capacity: misses)
 * @property {string[]} fillKeys   the keys the get-hit and set caches are filled with
 * @property {object[]} fillValues the value stored under each fill key
 * @property {object[]} valuePool  values that set operations write
 * @property {string[]} getKeys    get-hit lookups: Zipf over fillKeys, distinct string objects
 * @property {string[]} setKeys    set (update) keys: Zipf over fillKeys
 * @property {string[]} mixedKeys  mixed operations' keys: Zipf over the universe, ids shuffled
 * @property {Uint8Array} mixedIsSet 1 where the mixed operation is a set
 */

/**
 * @param {{ entries: number, seed?: number }} options
 * @returns {Workload}
 */
export function buildWorkload({ entries, seed = 20241121 }) {
  const random = seededRandom(seed);
  const fillKeys = [];
  const fillValues = [];
  for (let id = 0; id < entries; id++) {
    fillKeys.push(makeKey(id));
    fillValues.push(makeQuote(id));
  }
  const valuePool = [];
  for (let i = 0; i < VALUE_POOL; i++) valuePool.push(makeQuote(entries + i));

  // Lookup strings are built again, not shared with fillKeys: equal content, other objects.
  // Reads and updates are skewed (Zipf over the filled keys, hot ids spread by a shuffle), as
  // quote lookups are: a uniform stream over 100k entries would measure cache-line misses only.
  const lookupKeys = [];
  for (let id = 0; id < entries; id++) lookupKeys.push(makeKey(id));
  const hitRankToId = shuffledIds(entries, random);
  const hitZipf = zipfSampler(entries, ZIPF_S, random);
  const getKeys = [];
  const setKeys = [];
  for (let i = 0; i < STREAM_LENGTH; i++) {
    getKeys.push(lookupKeys[hitRankToId[hitZipf()]]);
    setKeys.push(lookupKeys[hitRankToId[hitZipf()]]);
  }

  // Mixed: hot keys are spread over the id space (shuffled ranks), and the universe is twice
  // the bounded caches' capacity, so the cold tail misses.
  const mixedCapacity = entries;
  const mixedUniverse = 2 * entries;
  const rankToId = shuffledIds(mixedUniverse, random);
  const mixedKeyById = [];
  for (let id = 0; id < mixedUniverse; id++) mixedKeyById.push(makeKey(id));
  const zipf = zipfSampler(mixedUniverse, ZIPF_S, random);
  const mixedKeys = [];
  const mixedIsSet = new Uint8Array(STREAM_LENGTH);
  for (let i = 0; i < STREAM_LENGTH; i++) {
    mixedKeys.push(mixedKeyById[rankToId[zipf()]]);
    mixedIsSet[i] = random() < MIXED_SET_SHARE ? 1 : 0;
  }
  return {
    entries,
    mixedCapacity,
    mixedUniverse,
    fillKeys,
    fillValues,
    valuePool,
    getKeys,
    setKeys,
    mixedKeys,
    mixedIsSet,
  };
}
