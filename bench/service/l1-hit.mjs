// @ts-check
// bench/service/l1-hit.mjs: an L1-hit measurement process for the service benchmarks: getOrSet
// (or wrap) calls that the contender's in-memory L1 answers, for ONE contender (its own process:
// its JIT sees one library only, as a service's does).
//
//   node bench/service/l1-hit.mjs --contender tickcache --redis-port 6379 [--keys 10000]
//        [--batch 64] [--sample-ms 100] [--warmup-ms 500]
//
// Started by run.mjs with an IPC channel; it pre-loads its keys (through its own getOrSet, which
// writes L1 and L2), then does what it is told (warm up a mode, measure one round of it, finish)
// so run.mjs can interleave the rounds of every contender's processes in time.
// Modes:
//   seq    one call at a time, each awaited before the next (a request doing one lookup)
//   batch  `batch` calls started in the same tick, then awaited together (Promise.all): how a
//          busy service calls, many requests in flight per turn of the event loop
//
// Invariants: every contender runs the same loops over the same key stream (uniform over the
// pre-loaded keys; lookup keys are string objects distinct from, and equal to, the filled ones);
// the loader counts its calls: one call during a measured round means a miss, reported (not
// hidden); the key prefix in Redis is this process's own; tickcache's own stats prove the hits
// were L1 hits (the L1 hit counter grows by exactly the calls made); a round's result is
// consumed (counted when defined) so no call can be optimized away.

import { parseArgs } from 'node:util';

import { makeKey, makeQuote, seededRandom } from '../js/workload.mjs';
import { median } from '../js/stats.mjs';
import { serveMeasurements } from '../lib/measurement-process.mjs';
import { checkContender, createContender } from './contenders.mjs';
import { REDIS_HOST } from './redis-server.mjs';

const STREAM_LENGTH = 1 << 16; // a power of two: positions wrap with a mask
const STREAM_MASK = STREAM_LENGTH - 1;
const WARMUP_CHUNK_OPS = 1 << 11;
const MIN_SAMPLE_OPS = 1 << 11;
const MAX_SAMPLE_OPS = 1 << 21;
export const MODES = ['seq', 'batch'];

/** @param {string} name @param {unknown} text */
function positiveInteger(name, text) {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got ${String(text)}`);
  return value;
}

async function main() {
  const { values } = parseArgs({
    options: {
      contender: { type: 'string' },
      'redis-port': { type: 'string' },
      keys: { type: 'string', default: '10000' },
      batch: { type: 'string', default: '64' },
      'sample-ms': { type: 'string', default: '100' },
      'warmup-ms': { type: 'string', default: '500' },
      tag: { type: 'string', default: '0' },
    },
  });
  const contender = String(values.contender);
  checkContender(contender);
  const port = positiveInteger('redis-port', values['redis-port']);
  const keyCount = positiveInteger('keys', values.keys);
  const batch = positiveInteger('batch', values.batch);
  const sampleMs = positiveInteger('sample-ms', values['sample-ms']);
  const warmupMs = positiveInteger('warmup-ms', values['warmup-ms']);

  const cache = await createContender(contender, {
    url: `redis://${REDIS_HOST}:${port}`,
    host: REDIS_HOST,
    port,
    namespace: `bench-l1-${contender}-${String(values.tag)}-${process.pid}:`,
    capacity: 2 * keyCount,
  });
  let loaderCalls = 0;
  /** @param {number} id */
  const loaderFor = (id) => async () => {
    loaderCalls++;
    return makeQuote(id);
  };
  // Pre-load every key through the contender's own getOrSet: L1 and L2 hold them afterwards.
  for (let id = 0; id < keyCount; id++) await cache.getOrSet(makeKey(id), loaderFor(id));
  if (loaderCalls !== keyCount) throw new Error(`pre-load: ${loaderCalls} loader calls for ${keyCount} keys`);
  // A sample read back: the contender answers what was loaded.
  for (let id = 0; id < keyCount; id += Math.max(1, Math.floor(keyCount / 100))) {
    const got = await cache.getOrSet(makeKey(id), loaderFor(id));
    if (JSON.stringify(got) !== JSON.stringify(makeQuote(id))) throw new Error(`${makeKey(id)}: read back ${JSON.stringify(got)}`);
  }
  // Let writes a contender sends to L2 in the background land before anything is measured.
  await new Promise((resolve) => setTimeout(resolve, 200));

  const random = seededRandom(20241121);
  /** @type {string[]} */
  const stream = [];
  for (let i = 0; i < STREAM_LENGTH; i++) stream.push(makeKey(Math.floor(random() * keyCount)));
  // The loader a measured call would run: one shared function (a call made to it is a miss).
  const missLoader = async () => {
    loaderCalls++;
    return makeQuote(0);
  };
  const getOrSet = cache.getOrSet;

  /** @param {number} start @param {number} count */
  async function seqLoop(start, count) {
    let answered = 0;
    for (let i = 0; i < count; i++) {
      if ((await getOrSet(stream[(start + i) & STREAM_MASK], missLoader)) !== undefined) answered++;
    }
    return answered;
  }
  /** @type {Promise<unknown>[]} */
  const inFlight = new Array(batch);
  /** @param {number} start @param {number} count */
  async function batchLoop(start, count) {
    let answered = 0;
    for (let done = 0; done < count; done += batch) {
      const n = Math.min(batch, count - done);
      for (let j = 0; j < n; j++) inFlight[j] = getOrSet(stream[(start + done + j) & STREAM_MASK], missLoader);
      inFlight.length = n;
      const results = await Promise.all(inFlight);
      for (let j = 0; j < n; j++) if (results[j] !== undefined) answered++;
      inFlight.length = batch;
    }
    return answered;
  }

  /** @type {Record<string, { loop: (start: number, count: number) => Promise<number>, position: number, sampleOps: number, samplesNs: number[], calls: number, answered: number, loaderCalls: number, l1Hits: number | null }>} */
  const runs = {};
  for (const mode of MODES) {
    runs[mode] = { loop: mode === 'seq' ? seqLoop : batchLoop, position: 0, sampleOps: 0, samplesNs: [], calls: 0, answered: 0, loaderCalls: 0, l1Hits: null };
  }
  const l1HitCount = () => (contender === 'tickcache' ? /** @type {number} */ (cache.cache.stats().l1.hits) : null);

  /** @param {string} mode */
  async function warmUp(mode) {
    const run = runs[mode];
    const started = process.hrtime.bigint();
    let lastNsPerOp = 0;
    for (let chunk = 0; ; chunk++) {
      const t0 = process.hrtime.bigint();
      await run.loop(run.position, WARMUP_CHUNK_OPS);
      const t1 = process.hrtime.bigint();
      run.position = (run.position + WARMUP_CHUNK_OPS) & STREAM_MASK;
      lastNsPerOp = Number(t1 - t0) / WARMUP_CHUNK_OPS;
      if (chunk >= 4 && Number(t1 - started) / 1e6 >= warmupMs) break;
    }
    const wanted = Math.round((sampleMs * 1e6) / Math.max(lastNsPerOp, 1));
    // A whole number of batches, so both modes make the same calls per sample.
    run.sampleOps = Math.ceil(Math.min(MAX_SAMPLE_OPS, Math.max(MIN_SAMPLE_OPS, wanted)) / batch) * batch;
  }

  /** @param {string} mode */
  async function measure(mode) {
    const run = runs[mode];
    const loadsBefore = loaderCalls;
    const hitsBefore = l1HitCount();
    const t0 = process.hrtime.bigint();
    const answered = await run.loop(run.position, run.sampleOps);
    const t1 = process.hrtime.bigint();
    const hitsAfter = l1HitCount();
    run.position = (run.position + run.sampleOps) & STREAM_MASK;
    run.samplesNs.push(Number(t1 - t0) / run.sampleOps);
    run.calls += run.sampleOps;
    run.answered += answered;
    run.loaderCalls += loaderCalls - loadsBefore;
    if (hitsBefore !== null && hitsAfter !== null) run.l1Hits = (run.l1Hits ?? 0) + (hitsAfter - hitsBefore);
    return run.sampleOps;
  }

  async function finish() {
    const results = MODES.filter((mode) => runs[mode].samplesNs.length > 0).map((mode) => {
      const { samplesNs, sampleOps, calls, answered, loaderCalls: loads, l1Hits } = runs[mode];
      return { mode, medianNs: median(samplesNs), samplesNs, sampleOps, calls, answered, loaderCalls: loads, l1Hits };
    });
    await cache.close();
    return { pid: process.pid, contender, batch, keys: keyCount, results };
  }

  if (process.send === undefined) {
    // By hand: a few rounds of each mode, JSON on stdout.
    for (const mode of MODES) {
      await warmUp(mode);
      for (let round = 0; round < 5; round++) await measure(mode);
    }
    process.stdout.write(JSON.stringify(await finish()) + '\n');
    return;
  }
  serveMeasurements({
    warmup: (request) => warmUp(String(request.mode)),
    measure: async (request) => ({ calls: await measure(String(request.mode)) }),
    finish,
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
