// @ts-check
// bench/service/l2-hit.mjs: an L2-hit measurement process for the service benchmarks: the latency
// of a tickcache getOrSet answered by Redis (the key is in L2, not in L1), beside a raw ioredis
// GET of the same stored bytes, one call at a time.
//
//   node bench/service/l2-hit.mjs --redis-port 6379 [--keys 1000] [--sample-calls 2000]
//        [--warmup-calls 4000]
//
// Started by run.mjs with an IPC channel (warm up, measure a round of one mode, finish), like
// l1-hit.mjs. Modes:
//   tickcache  tiered.l1.delete(key) (not timed), then getOrSet(key, loader) (timed): every call
//              misses L1 and reads L2 (one GET, the envelope decoded, the value parsed, L1 filled)
//   raw-get    getBuffer(<the same Redis key>) on a plain ioredis connection opened with the same
//              settings as tickcache's own (the URL, enableOfflineQueue: false)
// Both modes run in this one process, on the same keys, in alternating rounds: they share the
// event loop, the Redis server and the machine's load, which is what a latency ratio needs.
//
// Invariants: each timed call is awaited before the next starts (latency, not throughput); the
// per-call times are kept whole (p50, mean, p99 come from all of them); tickcache's stats must
// show exactly one L1 miss and one L2 hit per timed call and no loader call, and raw-get must get
// bytes for every call: a round that breaks this is reported, so no figure stands for a path
// it did not take; the key prefix in Redis is this process's own.

import { Redis } from 'ioredis';
import { parseArgs } from 'node:util';

import { makeKey, makeQuote, seededRandom } from '../js/workload.mjs';
import { median, quantile } from '../js/stats.mjs';
import { serveMeasurements } from '../lib/measurement-process.mjs';
import { createContender } from './contenders.mjs';
import { REDIS_HOST } from './redis-server.mjs';

export const L2_MODES = ['tickcache', 'raw-get'];

/** @param {string} name @param {unknown} text */
function positiveInteger(name, text) {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got ${String(text)}`);
  return value;
}

async function main() {
  const { values } = parseArgs({
    options: {
      'redis-port': { type: 'string' },
      keys: { type: 'string', default: '1000' },
      'sample-calls': { type: 'string', default: '2000' },
      'warmup-calls': { type: 'string', default: '4000' },
      tag: { type: 'string', default: '0' },
    },
  });
  const port = positiveInteger('redis-port', values['redis-port']);
  const keyCount = positiveInteger('keys', values.keys);
  const sampleCalls = positiveInteger('sample-calls', values['sample-calls']);
  const warmupCalls = positiveInteger('warmup-calls', values['warmup-calls']);
  const url = `redis://${REDIS_HOST}:${port}`;
  const namespace = `bench-l2-${String(values.tag)}-${process.pid}:`;

  const contender = await createContender('tickcache', { url, host: REDIS_HOST, port, namespace, capacity: 2 * keyCount });
  const tiered = contender.cache;
  // The adapter's connection is `new Redis(url, { enableOfflineQueue: false })` (js/src/l2/redis.ts).
  const raw = new Redis(url, { enableOfflineQueue: false });
  raw.on('error', () => undefined);
  await new Promise((resolve, reject) => {
    raw.once('ready', resolve);
    raw.once('end', () => reject(new Error(`raw ioredis connection to ${url} ended before it was ready`)));
  });

  let loaderCalls = 0;
  for (let id = 0; id < keyCount; id++) {
    await contender.getOrSet(makeKey(id), async () => {
      loaderCalls++;
      return makeQuote(id);
    });
  }
  if (loaderCalls !== keyCount) throw new Error(`pre-load: ${loaderCalls} loader calls for ${keyCount} keys`);
  // The Redis key tickcache stored each value under (its adapter's layout: <namespace>v:<key>).
  const redisKeyOf = (/** @type {string} */ key) => `${namespace}v:${key}`;
  const probe = await raw.getBuffer(redisKeyOf(makeKey(0)));
  if (probe === null) throw new Error(`no ${redisKeyOf(makeKey(0))} in Redis after the pre-load: the key layout changed`);
  const storedBytes = probe.length;

  const random = seededRandom(7);
  const keys = Array.from({ length: 1 << 14 }, () => makeKey(Math.floor(random() * keyCount)));
  const redisKeys = keys.map(redisKeyOf);
  const missLoader = async () => {
    loaderCalls++;
    return makeQuote(0);
  };
  let position = 0;

  /** Times `count` calls of one mode; returns their latencies (ns) and what proves their path. */
  async function calls(/** @type {string} */ mode, /** @type {number} */ count) {
    const latencies = new Float64Array(count);
    const before = tiered.stats();
    const loadsBefore = loaderCalls;
    let answered = 0;
    for (let i = 0; i < count; i++) {
      const at = position++ & (keys.length - 1);
      if (mode === 'tickcache') {
        tiered.l1.delete(keys[at]);
        const t0 = process.hrtime.bigint();
        const value = await contender.getOrSet(keys[at], missLoader);
        latencies[i] = Number(process.hrtime.bigint() - t0);
        if (value !== undefined) answered++;
      } else {
        const t0 = process.hrtime.bigint();
        const bytes = await raw.getBuffer(redisKeys[at]);
        latencies[i] = Number(process.hrtime.bigint() - t0);
        if (bytes !== null) answered++;
      }
    }
    const after = tiered.stats();
    return {
      latencies,
      answered,
      loaderCalls: loaderCalls - loadsBefore,
      l1Misses: after.l1.misses - before.l1.misses,
      l2Hits: after.l2.hits - before.l2.hits,
    };
  }

  /** @type {Record<string, { latenciesNs: number[], roundMediansNs: number[], calls: number, answered: number, loaderCalls: number, l1Misses: number, l2Hits: number }>} */
  const runs = {};
  for (const mode of L2_MODES) runs[mode] = { latenciesNs: [], roundMediansNs: [], calls: 0, answered: 0, loaderCalls: 0, l1Misses: 0, l2Hits: 0 };

  async function warmUp() {
    for (const mode of L2_MODES) await calls(mode, warmupCalls);
  }

  /** @param {string} mode */
  async function measure(mode) {
    const run = runs[mode];
    const result = await calls(mode, sampleCalls);
    for (const ns of result.latencies) run.latenciesNs.push(ns);
    run.roundMediansNs.push(median([...result.latencies]));
    run.calls += sampleCalls;
    run.answered += result.answered;
    run.loaderCalls += result.loaderCalls;
    if (mode === 'tickcache') {
      run.l1Misses += result.l1Misses;
      run.l2Hits += result.l2Hits;
    }
  }

  async function finish() {
    const results = L2_MODES.map((mode) => {
      const run = runs[mode];
      const all = run.latenciesNs;
      return {
        mode,
        calls: run.calls,
        answered: run.answered,
        loaderCalls: run.loaderCalls,
        l1Misses: mode === 'tickcache' ? run.l1Misses : null,
        l2Hits: mode === 'tickcache' ? run.l2Hits : null,
        p50Ns: quantile(all, 0.5),
        meanNs: all.reduce((sum, ns) => sum + ns, 0) / Math.max(1, all.length),
        p99Ns: quantile(all, 0.99),
        roundMediansNs: run.roundMediansNs,
        latenciesNs: all,
      };
    });
    const l2Latency = tiered.stats().l2.latency;
    await contender.close();
    raw.disconnect();
    return { pid: process.pid, keys: keyCount, storedBytes, sampleCalls, tickcacheL2Latency: l2Latency, results };
  }

  if (process.send === undefined) {
    await warmUp();
    for (let round = 0; round < 5; round++) for (const mode of L2_MODES) await measure(mode);
    const report = await finish();
    for (const result of report.results) result.latenciesNs = [];
    process.stdout.write(JSON.stringify(report) + '\n');
    return;
  }
  serveMeasurements({
    warmup: () => warmUp(),
    measure: async (request) => {
      await measure(String(request.mode));
      return { calls: sampleCalls };
    },
    finish,
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
