// @ts-check
// bench/js/throughput.mjs: a throughput measurement process for the JavaScript benchmarks:
// get-hit, set and mixed for the contenders named on its command line.
//
//   node bench/js/throughput.mjs --contenders native-object[,lru-cache,...] [--entries 100000]
//        [--sample-ms 30] [--warmup-ms 200] [--rounds 5]
//
// Started by run.mjs with an IPC channel, it prepares its caches and then does what it is told
// (warm up an operation, measure one round of it, finish), so run.mjs can interleave the rounds
// of several such processes in time: a burst of load on the machine then lands on every
// contender alike. Run by hand (no IPC channel), it runs its rounds itself and prints JSON.
//
// With one contender the loops below only ever see that cache's class (what an application with
// one cache sees: no JIT pollution); with several they see all of them, as in a shared process.
// Within a process, rounds rotate the contenders' order so none always runs first or last.
//
// Invariants: every contender runs the same loop on the same keys and values; each loop consumes
// what get returns by counting the hits, which are reported (so the JIT cannot drop a lookup),
// and does not read the value: its fields would be a cache-line miss per hit on 100k distinct
// objects, the same for every contender, blurring the ratios; get-hit reports a contender that
// misses rather than hiding it; each operation has its own cache per contender, so one workload cannot change
// another's state; a contender that throws is reported with its error, the others go on.

import { parseArgs } from 'node:util';

import { CONTENDER_NAMES, checkContender, createContender, entryCount } from './contenders.mjs';
import { serveMeasurements } from '../lib/measurement-process.mjs';
import { median, rotated } from './stats.mjs';
import { STREAM_LENGTH, VALUE_POOL, buildWorkload } from './workload.mjs';

const STREAM_MASK = STREAM_LENGTH - 1;
const POOL_MASK = VALUE_POOL - 1;
const MIN_SAMPLE_OPS = 1 << 12;
const MAX_SAMPLE_OPS = 1 << 22;
const WARMUP_CHUNK_OPS = 1 << 13;

/** @typedef {import('./contenders.mjs').BenchCache} BenchCache */
/** @typedef {{ hits: number, gets: number }} LoopResult */

// One function per operation, shared by every contender in this process.

/** @param {BenchCache} cache @param {string[]} keys @param {number} start @param {number} count @returns {LoopResult} */
function getHitLoop(cache, keys, start, count) {
  let hits = 0;
  for (let i = 0; i < count; i++) {
    const value = cache.get(keys[(start + i) & STREAM_MASK]);
    if (value !== undefined) hits++;
  }
  return { hits, gets: count };
}

/**
 * @param {BenchCache} cache @param {string[]} keys @param {object[]} pool @param {number} start @param {number} count
 * @returns {LoopResult}
 */
function setLoop(cache, keys, pool, start, count) {
  for (let i = 0; i < count; i++) {
    const at = (start + i) & STREAM_MASK;
    cache.set(keys[at], pool[at & POOL_MASK]);
  }
  return { hits: 0, gets: 0 };
}

/**
 * @param {BenchCache} cache @param {string[]} keys @param {Uint8Array} isSet @param {object[]} pool
 * @param {number} start @param {number} count @returns {LoopResult}
 */
function mixedLoop(cache, keys, isSet, pool, start, count) {
  let hits = 0;
  let gets = 0;
  for (let i = 0; i < count; i++) {
    const at = (start + i) & STREAM_MASK;
    if (isSet[at] === 1) {
      cache.set(keys[at], pool[at & POOL_MASK]);
    } else {
      gets++;
      if (cache.get(keys[at]) !== undefined) hits++;
    }
  }
  return { hits, gets };
}

/**
 * One operation on one contender: its cache, where its stream stands, and what it measured.
 * @typedef {object} Run
 * @property {string} contender
 * @property {string} op
 * @property {BenchCache} cache
 * @property {(start: number, count: number) => LoopResult} loop
 * @property {number} position
 * @property {number} sampleOps
 * @property {number[]} samplesNs  ns per operation, one per round
 * @property {number} hits
 * @property {number} gets
 */

/** @param {Run} run @param {number} count */
function step(run, count) {
  const result = run.loop(run.position, count);
  run.position = (run.position + count) & STREAM_MASK;
  return result;
}

/**
 * Runs until the JIT has settled (at least warmupMs), then sizes a sample to last sampleMs.
 * @param {Run} run @param {number} warmupMs @param {number} sampleMs
 */
function warmUp(run, warmupMs, sampleMs) {
  const started = process.hrtime.bigint();
  let lastNsPerOp = 0;
  for (let chunk = 0; ; chunk++) {
    const t0 = process.hrtime.bigint();
    step(run, WARMUP_CHUNK_OPS);
    const t1 = process.hrtime.bigint();
    lastNsPerOp = Number(t1 - t0) / WARMUP_CHUNK_OPS;
    if (chunk >= 4 && Number(t1 - started) / 1e6 >= warmupMs) break;
  }
  const wanted = Math.round((sampleMs * 1e6) / Math.max(lastNsPerOp, 0.5));
  run.sampleOps = Math.min(MAX_SAMPLE_OPS, Math.max(MIN_SAMPLE_OPS, wanted));
}

function measure(/** @type {Run} */ run) {
  const t0 = process.hrtime.bigint();
  const result = step(run, run.sampleOps);
  const t1 = process.hrtime.bigint();
  run.hits += result.hits;
  run.gets += result.gets;
  run.samplesNs.push(Number(t1 - t0) / run.sampleOps);
}

/**
 * Creates the three caches of one contender, filled the same way for every contender.
 * @param {string} contender @param {import('./workload.mjs').Workload} w
 * @returns {Promise<Run[]>}
 */
async function prepare(contender, w) {
  const getCache = await createContender(contender, 2 * w.entries);
  const setCache = await createContender(contender, 2 * w.entries);
  for (let i = 0; i < w.entries; i++) {
    getCache.set(w.fillKeys[i], w.fillValues[i]);
    setCache.set(w.fillKeys[i], w.fillValues[i]);
  }
  if (entryCount(getCache) !== w.entries) {
    throw new Error(`${contender}: holds ${entryCount(getCache)} of the ${w.entries} entries it was given`);
  }
  // The mixed caches start with one pass of the stream's sets: a warm, identical start.
  const mixedCache = await createContender(contender, w.mixedCapacity);
  for (let at = 0; at < STREAM_LENGTH; at++) {
    if (w.mixedIsSet[at] === 1) mixedCache.set(w.mixedKeys[at], w.valuePool[at & POOL_MASK]);
  }
  /** @param {string} op @param {BenchCache} cache @param {Run['loop']} loop @returns {Run} */
  const run = (op, cache, loop) => ({ contender, op, cache, loop, position: 0, sampleOps: 0, samplesNs: [], hits: 0, gets: 0 });
  return [
    run('get-hit', getCache, (start, count) => getHitLoop(getCache, w.getKeys, start, count)),
    run('set', setCache, (start, count) => setLoop(setCache, w.setKeys, w.valuePool, start, count)),
    run('mixed', mixedCache, (start, count) => mixedLoop(mixedCache, w.mixedKeys, w.mixedIsSet, w.valuePool, start, count)),
  ];
}

const OPS = ['get-hit', 'set', 'mixed'];

/**
 * The contenders of this process and what they measured.
 * @typedef {object} Bench
 * @property {Run[]} runs
 * @property {Record<string, string>} failed  contender -> why it stopped
 */

/** @param {string[]} contenders @param {import('./workload.mjs').Workload} workload @returns {Promise<Bench>} */
async function prepareAll(contenders, workload) {
  /** @type {Bench} */
  const bench = { runs: [], failed: {} };
  for (const contender of contenders) {
    try {
      bench.runs.push(...(await prepare(contender, workload)));
    } catch (error) {
      bench.failed[contender] = describeError(error);
    }
  }
  return bench;
}

/** @param {unknown} error */
function describeError(error) {
  if (error instanceof Error) {
    const code = /** @type {{ code?: unknown }} */ (error).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

/** Runs `body` on each live run of `op` (in `order`); a run that throws marks its contender failed. */
function eachLive(/** @type {Bench} */ bench, /** @type {Run[]} */ order, /** @type {(run: Run) => void} */ body) {
  for (const run of order) {
    if (run.contender in bench.failed) continue;
    try {
      body(run);
    } catch (error) {
      bench.failed[run.contender] = `${run.op}: ${describeError(error)}`;
    }
  }
}

/** @param {Bench} bench @param {string} op */
function opRuns(bench, op) {
  return bench.runs.filter((run) => run.op === op);
}

/** @param {Bench} bench */
function finish(bench) {
  const results = bench.runs
    .filter((run) => !(run.contender in bench.failed) && run.samplesNs.length > 0)
    .map((run) => ({
      contender: run.contender,
      op: run.op,
      medianNs: median(run.samplesNs),
      samplesNs: run.samplesNs,
      sampleOps: run.sampleOps,
      getHitRate: run.gets === 0 ? null : run.hits / run.gets,
    }));
  for (const run of bench.runs) {
    try {
      run.cache.close?.();
    } catch {
      // a contender that failed may not close cleanly; its failure is already reported
    }
  }
  return { pid: process.pid, failed: bench.failed, results };
}

async function main() {
  const { values } = parseArgs({
    options: {
      contenders: { type: 'string', default: CONTENDER_NAMES.join(',') },
      ops: { type: 'string', default: OPS.join(',') },
      rounds: { type: 'string', default: '5' },
      entries: { type: 'string', default: '100000' },
      'sample-ms': { type: 'string', default: '30' },
      'warmup-ms': { type: 'string', default: '200' },
    },
  });
  const contenders = String(values.contenders).split(',');
  contenders.forEach(checkContender);
  const ops = String(values.ops).split(',');
  for (const op of ops) {
    if (!OPS.includes(op)) throw new Error(`unknown op ${JSON.stringify(op)}`);
  }
  const entries = Number(values.entries);
  const sampleMs = Number(values['sample-ms']);
  const warmupMs = Number(values['warmup-ms']);

  const bench = await prepareAll(contenders, buildWorkload({ entries }));
  const warm = (/** @type {string} */ op) => eachLive(bench, opRuns(bench, op), (run) => warmUp(run, warmupMs, sampleMs));
  const round = (/** @type {string} */ op, /** @type {number} */ index) =>
    eachLive(bench, rotated(opRuns(bench, op), index), measure);

  if (process.send === undefined) {
    for (const op of ops) {
      warm(op);
      for (let index = 0; index < Number(values.rounds); index++) round(op, index);
    }
    process.stdout.write(JSON.stringify(finish(bench)) + '\n');
    return;
  }
  serveMeasurements(
    {
      warmup: (request) => warm(String(request.op)),
      measure: (request) => {
        round(String(request.op), Number(request.round));
      },
      finish: () => finish(bench),
    },
    { failed: bench.failed },
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
