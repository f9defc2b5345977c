// @ts-check
// bench/service/hit-path.mjs: where the time of a tickcache getOrSet goes on its two hit paths,
// step by step, in one process over its own loopback redis-server; the "why" behind
// bench/service/run.mjs's ratios. Not part of scripts/bench-service.sh's report: it reaches into
// TieredCache's internals (l1, l2, codec, counters), which may change.
//
//   node bench/service/hit-path.mjs [--rounds 12] [--l1-calls 200000] [--l2-calls 1500]
//
// Parts:
// - JavaScript costs on their own: `{ ...stored, source }` (getOrSetStored's answer) against the
//   same object written field by field, and `{ ...defaults, ...options }` (its option merge),
//   on the Stored objects L1 really holds.
// - L1 hit: l1.getEntry alone, getOrSet as built, and getOrSet with a PROPOSED fast path
//   (installed on one instance here, js/src untouched): a fresh hit without refresh-ahead is
//   answered as Promise.resolve(stored.value), with no Stored copy, no second async function and
//   no option merge; anything else takes the built path.
// - L2 hit (the key deleted from L1 before each call, untimed): a raw ioredis GET, the same GET
//   on tickcache's connection, the GET inside a timeout race as the adapter's request() does it,
//   the GET timed by ioredis itself (commandTimeout, the alternative to that race),
//   l2.get (the adapter), + codec.decode, + the L1 fill readL2 does, readL2 itself (those inside
//   the circuit breaker, with the L2 latency histogram), getOrSet as built, and the
//   proposed getOrSet (an L1 miss with no load running goes straight to startLoad and answers
//   .value: no `{ ...stored, source }` copy, no second async function), and that with a leaner
//   load (installLeanGetOrSet: the L2 read and the inflight cleanup in one async function).
// Invariants: the steps of a part run in alternating blocks (rotating order) so machine load
// lands on all of them alike; figures are medians (L2: per-call p50 and mean); every L2 step's
// Redis command count is read from INFO stats (one GET per call expected); the proposed paths
// answer the same values (checked).

import { Redis } from 'ioredis';
import { parseArgs } from 'node:util';

import { makeKey, makeQuote } from '../js/workload.mjs';
import { median, rotated, table } from '../js/stats.mjs';
import { TICKCACHE_DIST } from './contenders.mjs';
import { commandsProcessed, startRedisServer } from './redis-server.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '12' },
    'l1-calls': { type: 'string', default: '200000' },
    'l2-calls': { type: 'string', default: '1500' },
  },
});
const ROUNDS = Number(values.rounds);
const L1_CALLS = Number(values['l1-calls']);
const L2_CALLS = Number(values['l2-calls']);
const WARM_ROUNDS = 2;
const KEYS = 1000;
const STREAM = 4096; // a power of two
const NAMESPACE = 'hitpath:';
const OPTIONS = { ttl: 3_600_000 };

/** The proposed getOrSet (see the file comment), installed on one instance. @param {any} tiered */
function installProposedGetOrSet(tiered) {
  const built = tiered.getOrSet.bind(tiered);
  tiered.getOrSet = function proposedGetOrSet(/** @type {string} */ key, /** @type {any} */ loader, /** @type {any} */ options = {}) {
    if (this.closed || !this.enabledFlag || this.hotKeys !== undefined || typeof loader !== 'function') return built(key, loader, options);
    const hit = this.l1.getEntry(key);
    if (hit !== undefined) {
      if (hit.state === 'fresh') {
        const ahead = options.refreshAhead ?? this.defaults.refreshAhead;
        if (!(ahead > 0) || hit.ttl > ahead * hit.value.ttlMs) {
          this.counters.l1.hits++;
          return Promise.resolve(hit.value.value);
        }
      }
      return built(key, loader, options);
    }
    if (this.inflight.has(key)) return built(key, loader, options);
    this.counters.l1.misses++;
    return this.startLoad(key, loader, { ...this.defaults, ...options }, undefined).result.then((/** @type {any} */ stored) => stored.value);
  };
}

/**
 * The proposed getOrSet, and on an L1 miss with nothing in flight a leaner load: one async
 * function reads L2 and cleans up `inflight` in its own finally (startLoad chains .finally() on
 * an async IIFE: two more promises and microtask turns per load); L2 missing or stale -> the
 * built loadWithLock, as startLoad does.
 * @param {any} tiered
 */
function installLeanGetOrSet(tiered) {
  installProposedGetOrSet(tiered);
  const proposed = tiered.getOrSet.bind(tiered);
  tiered.getOrSet = function leanGetOrSet(/** @type {string} */ key, /** @type {any} */ loader, /** @type {any} */ options = {}) {
    if (this.closed || !this.enabledFlag || this.hotKeys !== undefined || typeof loader !== 'function') return proposed(key, loader, options);
    if (this.inflight.has(key) || this.l1.peek(key) !== undefined) return proposed(key, loader, options);
    this.l1.getEntry(key); // the miss, counted by L1 as the built path does
    this.counters.l1.misses++;
    const merged = { ...this.defaults, ...options };
    let source = 'loader';
    /** @type {Promise<any> | undefined} */
    let result;
    result = (async () => {
      try {
        const fromL2 = await this.readL2(key);
        if (fromL2 !== undefined && fromL2.fresh) {
          source = 'l2';
          return fromL2.stored;
        }
        const fromOtherInstance = { l2: false };
        const stored = await this.loadWithLock(key, loader, merged, fromL2?.stored, fromOtherInstance);
        if (fromOtherInstance.l2) source = 'l2';
        return stored;
      } finally {
        if (this.inflight.get(key) === result) this.inflight.delete(key);
        this.inflightSource.delete(result);
      }
    })();
    this.inflight.set(key, result);
    this.inflightSource.set(result, () => source);
    return result.then((/** @type {any} */ stored) => stored.value);
  };
}

/** @param {any} tiered */
function checkInternals(tiered) {
  for (const field of ['l1', 'l2', 'codec', 'counters', 'defaults', 'inflight', 'enabledFlag']) {
    if (tiered[field] === undefined) throw new Error(`TieredCache has no ${field} any more: update bench/service/hit-path.mjs`);
  }
  if (typeof tiered.startLoad !== 'function' || typeof tiered.readL2 !== 'function') throw new Error('TieredCache has no startLoad or readL2 any more: update bench/service/hit-path.mjs');
}

async function main() {
  const { createTieredCache } = await import(TICKCACHE_DIST);
  const server = await startRedisServer();
  /** @type {any[]} */
  const opened = [];
  try {
    const make = async (/** @type {string} */ ns) => {
      const tiered = await createTieredCache({ l1: { maxEntries: 4 * KEYS }, redis: { url: server.url, namespace: ns } });
      opened.push(tiered);
      checkInternals(tiered);
      for (let id = 0; id < KEYS; id++) await tiered.getOrSet(makeKey(id), async () => makeQuote(id), OPTIONS);
      return tiered;
    };
    const built = await make(NAMESPACE);
    const proposed = await make(NAMESPACE); // same Redis keys: both read the same stored bytes
    installProposedGetOrSet(proposed);
    const lean = await make(NAMESPACE);
    installLeanGetOrSet(lean);
    const raw = new Redis(server.url, { enableOfflineQueue: false });
    // The alternative to request()'s own timeout race: ioredis times each command itself.
    const timed = new Redis(server.url, { enableOfflineQueue: false, commandTimeout: 250 });
    for (const connection of [raw, timed]) {
      connection.on('error', () => undefined);
      await new Promise((resolve) => connection.once('ready', resolve));
    }
    const keys = Array.from({ length: STREAM }, (_, i) => makeKey((i * 7919) % KEYS));
    const redisKeys = keys.map((key) => `${NAMESPACE}v:${key}`);
    const loader = async () => {
      throw new Error('a measured call reached the loader');
    };
    for (let i = 0; i < 50; i++) {
      const a = await built.getOrSet(keys[i], loader, OPTIONS);
      proposed.l1.delete(keys[i]);
      const b = await proposed.getOrSet(keys[i], loader, OPTIONS);
      const c = await proposed.getOrSet(keys[i], loader, OPTIONS);
      lean.l1.delete(keys[i]);
      const d = await lean.getOrSet(keys[i], loader, OPTIONS);
      for (const other of [b, c, d]) {
        if (JSON.stringify(a) !== JSON.stringify(other)) throw new Error(`a proposed getOrSet answered differently for ${keys[i]}`);
      }
    }

    const out = [];
    // ---- JavaScript costs on their own ----
    const storedObjects = keys.map((key) => built.l1.peek(key).value);
    const defaults = built.defaults;
    /** @type {Record<string, (n: number) => number>} */
    const jsSteps = {
      '{ ...stored, source }': (n) => {
        let c = 0;
        for (let i = 0; i < n; i++) if ({ ...storedObjects[i & (STREAM - 1)], source: 'l1' }.version !== -1) c++;
        return c;
      },
      '{ value, version, ttlMs, source } by field': (n) => {
        let c = 0;
        for (let i = 0; i < n; i++) {
          const s = storedObjects[i & (STREAM - 1)];
          if ({ value: s.value, version: s.version, ttlMs: s.ttlMs, source: 'l1' }.version !== -1) c++;
        }
        return c;
      },
      '{ ...defaults, ...options }': (n) => {
        let c = 0;
        for (let i = 0; i < n; i++) if ({ ...defaults, ...OPTIONS }.ttl !== -1) c++;
        return c;
      },
    };
    const jsNs = blocks(jsSteps, L1_CALLS);
    out.push('JAVASCRIPT COSTS (ns per expression, median of blocks; on the Stored objects L1 holds)');
    out.push(table([['expression', 'ns'], ...Object.keys(jsSteps).map((name) => [name, jsNs[name].toFixed(1)])]));

    // ---- L1 hit ----
    /** @type {Record<string, (n: number) => Promise<number>>} */
    const l1Steps = {
      'l1.getEntry (sync)': async (n) => {
        let c = 0;
        for (let i = 0; i < n; i++) if (built.l1.getEntry(keys[i & (STREAM - 1)]) !== undefined) c++;
        return c;
      },
      'getOrSet, built': async (n) => {
        let c = 0;
        for (let i = 0; i < n; i++) if ((await built.getOrSet(keys[i & (STREAM - 1)], loader, OPTIONS)) !== undefined) c++;
        return c;
      },
      'getOrSet, proposed fast path': async (n) => {
        let c = 0;
        for (let i = 0; i < n; i++) if ((await proposed.getOrSet(keys[i & (STREAM - 1)], loader, OPTIONS)) !== undefined) c++;
        return c;
      },
    };
    const l1Ns = await asyncBlocks(l1Steps, L1_CALLS);
    out.push('');
    out.push(`L1 HIT (ns per call, each awaited; median of ${ROUNDS - WARM_ROUNDS} blocks of ${L1_CALLS.toLocaleString('en')} calls)`);
    const l1Built = l1Ns['getOrSet, built'];
    out.push(
      table([
        ['step', 'ns', 'vs built getOrSet'],
        ...Object.keys(l1Steps).map((name) => [name, l1Ns[name].toFixed(0), `${(l1Ns[name] - l1Built >= 0 ? '+' : '')}${(l1Ns[name] - l1Built).toFixed(0)}`]),
      ]),
    );

    // ---- L2 hit ----
    const l2 = built.l2;
    const codec = built.codec;
    const timeoutRace = async (/** @type {Promise<unknown>} */ pending) => {
      /** @type {ReturnType<typeof setTimeout> | undefined} */
      let timer;
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), 250);
      });
      try {
        return await Promise.race([pending, timeout]);
      } finally {
        clearTimeout(timer);
        pending.catch(() => undefined);
      }
    };
    /** @type {Record<string, { cache: any, call: (i: number) => Promise<unknown> }>} */
    const l2Steps = {
      'raw ioredis getBuffer': { cache: built, call: (i) => raw.getBuffer(redisKeys[i]) },
      "getBuffer on tickcache's connection": { cache: built, call: (i) => l2.client.getBuffer(redisKeys[i]) },
      '+ timeout race (as request())': { cache: built, call: (i) => timeoutRace(l2.client.getBuffer(redisKeys[i])) },
      'getBuffer, ioredis commandTimeout: 250': { cache: built, call: (i) => timed.getBuffer(redisKeys[i]) },
      'l2.get (adapter: + key check, envelope)': { cache: built, call: (i) => l2.get(keys[i]) },
      '+ codec.decode (JSON)': {
        cache: built,
        call: async (i) => codec.decode((await l2.get(keys[i])).value),
      },
      '+ L1 fill (l1.set as readL2)': {
        cache: built,
        call: async (i) => {
          const envelope = await l2.get(keys[i]);
          const value = codec.decode(envelope.value);
          built.l1.set(keys[i], { value, version: envelope.version, ttlMs: 1 }, { ttl: envelope.freshUntil - Date.now(), grace: undefined, tags: envelope.tags });
          return value;
        },
      },
      'readL2 (+ breaker, l2Call, latency stats)': { cache: built, call: (i) => built.readL2(keys[i]) },
      'getOrSet, built': { cache: built, call: (i) => built.getOrSet(keys[i], loader, OPTIONS) },
      'getOrSet, proposed': { cache: proposed, call: (i) => proposed.getOrSet(keys[i], loader, OPTIONS) },
      'getOrSet, proposed + lean load': { cache: lean, call: (i) => lean.getOrSet(keys[i], loader, OPTIONS) },
    };
    const names = Object.keys(l2Steps);
    /** @type {Record<string, number[]>} */
    const latencies = Object.fromEntries(names.map((name) => [name, []]));
    /** @type {Record<string, number>} */
    const commands = Object.fromEntries(names.map((name) => [name, 0]));
    let position = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of rotated(names, round)) {
        const { cache, call } = l2Steps[name];
        const before = await commandsProcessed(server.port);
        for (let c = 0; c < L2_CALLS; c++) {
          const i = position++ & (STREAM - 1);
          cache.l1.delete(keys[i]);
          const t0 = process.hrtime.bigint();
          await call(i);
          const ns = Number(process.hrtime.bigint() - t0);
          if (round >= WARM_ROUNDS) latencies[name].push(ns);
        }
        const after = await commandsProcessed(server.port);
        if (round >= WARM_ROUNDS) commands[name] += after - before - 1;
      }
    }
    const base = median(latencies['raw ioredis getBuffer']);
    const baseMean = mean(latencies['raw ioredis getBuffer']);
    out.push('');
    out.push(`L2 HIT (us per call, the key deleted from L1 first, untimed; ${ROUNDS - WARM_ROUNDS} rounds x ${L2_CALLS} calls per step)`);
    out.push(
      table([
        ['step', 'p50 us', 'p50 vs GET', 'mean us', 'mean vs GET', 'Redis cmds/call'],
        ...names.map((name) => [
          name,
          (median(latencies[name]) / 1000).toFixed(2),
          `${((median(latencies[name]) - base) / 1000 >= 0 ? '+' : '')}${((median(latencies[name]) - base) / 1000).toFixed(2)}`,
          (mean(latencies[name]) / 1000).toFixed(2),
          `${((mean(latencies[name]) - baseMean) / 1000 >= 0 ? '+' : '')}${((mean(latencies[name]) - baseMean) / 1000).toFixed(2)}`,
          (commands[name] / Math.max(1, latencies[name].length)).toFixed(2),
        ]),
      ]),
    );
    const ratio = (/** @type {string} */ name) => `${(median(latencies[name]) / base).toFixed(2)}x`;
    out.push(
      `  getOrSet p50 / raw GET p50: built ${ratio('getOrSet, built')}, proposed ${ratio('getOrSet, proposed')}, ` +
        `proposed + lean load ${ratio('getOrSet, proposed + lean load')}; the floor of this design (GET in a timeout race, envelope, JSON, L1 fill) ${ratio('+ L1 fill (l1.set as readL2)')}`,
    );
    process.stdout.write(out.join('\n') + '\n');
    raw.disconnect();
    timed.disconnect();
  } finally {
    for (const tiered of opened) await tiered.close().catch(() => undefined);
    await server.stop();
  }
}

/** @param {number[]} xs */
function mean(xs) {
  return xs.reduce((sum, x) => sum + x, 0) / Math.max(1, xs.length);
}

/** Synchronous steps in alternating blocks; ns per call, median over the measured rounds. @param {Record<string, (n: number) => number>} steps @param {number} n */
function blocks(steps, n) {
  /** @type {Record<string, number[]>} */
  const samples = Object.fromEntries(Object.keys(steps).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of rotated(Object.keys(steps), round)) {
      const t0 = process.hrtime.bigint();
      steps[name](n);
      if (round >= WARM_ROUNDS) samples[name].push(Number(process.hrtime.bigint() - t0) / n);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, xs]) => [name, median(xs)]));
}

/** As blocks, for steps that await. @param {Record<string, (n: number) => Promise<number>>} steps @param {number} n */
async function asyncBlocks(steps, n) {
  /** @type {Record<string, number[]>} */
  const samples = Object.fromEntries(Object.keys(steps).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of rotated(Object.keys(steps), round)) {
      const t0 = process.hrtime.bigint();
      await steps[name](n);
      if (round >= WARM_ROUNDS) samples[name].push(Number(process.hrtime.bigint() - t0) / n);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, xs]) => [name, median(xs)]));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
