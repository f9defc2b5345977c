// @ts-check
// bench/js/memory.mjs: what holding N quote objects costs one contender, measured in a process of
// its own (run.mjs starts one per contender) and printed as one JSON document on stdout.
//
//   node --expose-gc bench/js/memory.mjs --contender native-bytes [--entries 1000000]
//
// Invariants: the baseline is taken after the contender's code (addon, wasm module) is loaded
// and collected, before its cache exists, so the cache's own preallocation counts; keys and
// values are built fresh for each entry, as a service receiving quotes would, so what a contender
// does not keep becomes garbage and is collected before the second reading; a contender that
// did not keep every entry, or gives back a different value, is reported as such.

import { parseArgs } from 'node:util';

import { CONTENDERS, chargedBytes, checkContender, createContender, entryCount, loadContender } from './contenders.mjs';
import { makeKey, makeQuote, seededRandom } from './workload.mjs';

const VERIFY_SAMPLES = 1000;
// tickcache spreads entries over hash shards, each bounded by its share of maxEntries, so a cache
// sized exactly N refuses a few entries of N (the fullest shards); 5 % room keeps them all. A
// peer with one global bound (lru-cache) is sized exactly N: it keeps all N that way.
const SHARDED_ROOM = 1.05;

/** Full collections until the heap stops shrinking, with a turn of the event loop between them
 *  so weak callbacks and finalizers run. */
async function settle() {
  const gc = /** @type {(() => void) | undefined} */ (globalThis.gc);
  if (gc === undefined) throw new Error('run with node --expose-gc');
  let previous = Infinity;
  for (let pass = 0; pass < 6; pass++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    const used = process.memoryUsage().heapUsed;
    if (used >= previous * 0.999) break;
    previous = used;
  }
}

function reading() {
  const usage = process.memoryUsage();
  // external already includes arrayBuffers (Node's documentation): adding both would count
  // every ArrayBuffer twice, so the JavaScript-visible total is heapUsed + external.
  return {
    rss: usage.rss,
    heapUsed: usage.heapUsed,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
    heapPlusExternal: usage.heapUsed + usage.external,
  };
}

async function main() {
  const { values } = parseArgs({
    options: { contender: { type: 'string' }, entries: { type: 'string', default: '1000000' } },
  });
  const contender = String(values.contender);
  checkContender(contender);
  const entries = Number(values.entries);

  await loadContender(contender);
  await settle();
  const before = reading();

  const capacity = CONTENDERS[contender].kind === 'tickcache' ? Math.ceil(entries * SHARDED_ROOM) : entries;
  const cache = await createContender(contender, capacity);
  const fillStarted = process.hrtime.bigint();
  for (let id = 0; id < entries; id++) cache.set(makeKey(id), makeQuote(id));
  const fillMs = Number(process.hrtime.bigint() - fillStarted) / 1e6;
  await settle();
  const after = reading();
  const held = entryCount(cache);
  const charged = chargedBytes(cache);

  // Read back a sample (after the readings: a bytes-mode get allocates the decoded object).
  const random = seededRandom(7);
  let mismatches = 0;
  for (let i = 0; i < VERIFY_SAMPLES; i++) {
    const id = Math.floor(random() * entries);
    const got = cache.get(makeKey(id));
    if (JSON.stringify(got) !== JSON.stringify(makeQuote(id))) mismatches++;
  }
  /** @type {Record<string, number>} */
  const growth = {};
  for (const [field, value] of Object.entries(after)) growth[field] = value - before[/** @type {keyof typeof before} */ (field)];
  process.stdout.write(
    JSON.stringify({
      contender,
      entries,
      capacity,
      held,
      fillMs,
      before,
      after,
      growth,
      chargedBytes: charged ?? null,
      verified: { samples: VERIFY_SAMPLES, mismatches },
    }) + '\n',
  );
  cache.close?.();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
