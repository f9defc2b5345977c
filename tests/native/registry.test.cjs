// tests/native/registry.test.cjs: named native caches shared by worker_threads
// (bindings/PROTOCOL.md, "Named caches"), under node's own test runner.
//
// What it pins down: a cache created with { name } is one set of entries for every thread of
// the process that opens it (two workers and the main thread writing and reading at once);
// add is atomic across threads (four workers adding one key: exactly one true); a live name
// cannot be taken twice, from any thread; an unknown name is not_found; close() detaches one
// handle only; the name dies with the last handle, whether that handle was closed, finalized
// when its worker exited, or garbage-collected. Threads are started
// together with Atomics (no sleeps); every wait has a timeout so a bug fails, never hangs.
'use strict';

const assert = require('node:assert/strict');
const path = require('node:path');
const test = require('node:test');
const v8 = require('node:v8');
const vm = require('node:vm');
const { Worker } = require('node:worker_threads');

const ADDON_PATH = path.join(__dirname, '..', '..', 'build', 'addon', 'Release', 'tickcache.node');
const { CoreCache, openCoreCache } = require(ADDON_PATH);

const T0 = 1_700_000_000_000;
const WAIT_MS = 20_000;
let names = 0;
// Names are process-wide: each test takes fresh ones.
const freshName = (label) => `registry-test:${label}:${++names}`;
const bytes = (text) => Buffer.from(text, 'utf8');
const optionsJson = JSON.stringify({ maxEntries: 100_000 });

function assertCode(fn, code, label = '') {
  assert.throws(fn, (error) => {
    assert.equal(error.code, code, `${label} code of: ${error.message}`);
    return true;
  });
}

function valueOf(cache, key, now = T0) {
  const value = cache.get(key, now, new Float64Array(3));
  return value === null ? null : value.toString('utf8');
}

// Runs `source` (CommonJS, with `addon`, `workerData` and `parentPort` in scope) in a worker;
// resolves with its messages once it has exited with code 0.
function runWorker(source, workerData) {
  const wrapped = `
    const { parentPort, workerData } = require('node:worker_threads');
    const addon = require(workerData.addonPath);
    ${source}
  `;
  return new Promise((resolve, reject) => {
    const messages = [];
    const worker = new Worker(wrapped, { eval: true, workerData: { addonPath: ADDON_PATH, ...workerData } });
    worker.on('message', (message) => messages.push(message));
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 ? resolve(messages) : reject(new Error(`worker exited with ${code}`))));
  });
}

test('two workers and the main thread write and read one named cache concurrently', async () => {
  const name = freshName('concurrent');
  const main = new CoreCache(optionsJson, { name });
  const WRITES = 3000;
  const WORKERS = 2;
  // [0] workers ready, [1] go, [2] writers done
  const sync = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
  const workerSource = `
    const { id, name, writes, writers, t0, sync: shared } = workerData;
    const sync = new Int32Array(shared);
    const cache = addon.openCoreCache(name);
    const out = new Float64Array(3);
    Atomics.add(sync, 0, 1);
    Atomics.notify(sync, 0);
    if (Atomics.wait(sync, 1, 0, ${WAIT_MS}) === 'timed-out') throw new Error('no go');
    let ownRead = 0;
    let othersSeen = 0;
    for (let i = 0; i < writes; i++) {
      const key = 'w' + id + ':' + i;
      cache.set(key, Buffer.from(key + '=' + i), 60000, 0, null, t0);
      const got = cache.get(key, t0, out);
      if (got !== null && got.toString() === key + '=' + i) ownRead++;
      // Reads of what the other threads are writing right now.
      const other = (id === 1 ? 'w2:' : 'w1:') + i;
      if (cache.get(other, t0, out) !== null) othersSeen++;
      if (cache.get('main:' + i, t0, out) !== null) othersSeen++;
    }
    Atomics.add(sync, 2, 1);
    Atomics.notify(sync, 2);
    // Once every writer is done, each thread must see all of everyone's entries.
    while (Atomics.load(sync, 2) < writers) {
      if (Atomics.wait(sync, 2, Atomics.load(sync, 2), ${WAIT_MS}) === 'timed-out') throw new Error('stuck');
    }
    let allSeen = 0;
    for (const prefix of ['w1:', 'w2:', 'main:']) {
      for (let i = 0; i < writes; i++) {
        const got = cache.get(prefix + i, t0, out);
        if (got !== null && got.toString() === prefix + i + '=' + i) allSeen++;
      }
    }
    parentPort.postMessage({ id, ownRead, othersSeen, allSeen, entries: cache.entries() });
    cache.close();
  `;
  const done = [];
  for (let id = 1; id <= WORKERS; id++) {
    done.push(runWorker(workerSource, { id, name, writes: WRITES, writers: WORKERS + 1, t0: T0, sync: sync.buffer }));
  }
  // The main thread blocks until both workers hold a handle, then starts everyone at once.
  while (Atomics.load(sync, 0) < WORKERS) {
    assert.notEqual(Atomics.wait(sync, 0, Atomics.load(sync, 0), WAIT_MS), 'timed-out', 'workers never got ready');
  }
  Atomics.store(sync, 1, 1);
  Atomics.notify(sync, 1);
  for (let i = 0; i < WRITES; i++) {
    main.set(`main:${i}`, bytes(`main:${i}=${i}`), 60_000, 0, null, T0);
    assert.equal(valueOf(main, `main:${i}`), `main:${i}=${i}`);
  }
  Atomics.add(sync, 2, 1);
  Atomics.notify(sync, 2);
  const results = (await Promise.all(done)).map((messages) => messages[0]);
  for (const result of results) {
    assert.equal(result.ownRead, WRITES, `worker ${result.id} read back its own writes`);
    assert.equal(result.allSeen, 3 * WRITES, `worker ${result.id} sees every thread's entries`);
    assert.equal(result.entries, 3 * WRITES);
  }
  assert.equal(main.entries(), 3 * WRITES, 'one set of entries');
  for (const prefix of ['w1:', 'w2:']) {
    for (let i = 0; i < WRITES; i += 97) assert.equal(valueOf(main, `${prefix}${i}`), `${prefix}${i}=${i}`);
  }
  const stats = JSON.parse(main.statsJson());
  assert.equal(stats.sets, 3 * WRITES, 'every thread wrote to the same cache');
  main.close();
  assertCode(() => openCoreCache(name), 'not_found', 'the workers closed, then main: the name is gone');
});

test('add is atomic across worker_threads: of 4 workers adding one key, exactly one wins', async () => {
  const name = freshName('add-race');
  const main = new CoreCache(optionsJson, { name });
  const WORKERS = 4;
  const ROUNDS = 5000;
  // [0] workers ready, [1] go
  const sync = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  // Every worker adds one shared key ROUNDS times, and each round's own key once: the four
  // race for 'the-lock' all along, and for every 'lock:<round>' at about the same moment.
  const workerSource = `
    const { id, name, rounds, t0, sync: shared } = workerData;
    const sync = new Int32Array(shared);
    const cache = addon.openCoreCache(name);
    const me = Buffer.from('worker ' + id);
    Atomics.add(sync, 0, 1);
    Atomics.notify(sync, 0);
    if (Atomics.wait(sync, 1, 0, ${WAIT_MS}) === 'timed-out') throw new Error('no go');
    let oneLockWins = 0;
    const roundsWon = [];
    for (let i = 0; i < rounds; i++) {
      if (cache.add('the-lock', me, 60000, 0, null, t0)) oneLockWins++;
      if (cache.add('lock:' + i, me, 60000, 0, null, t0)) roundsWon.push(i);
    }
    parentPort.postMessage({ id, oneLockWins, roundsWon });
    cache.close();
  `;
  const done = [];
  for (let id = 1; id <= WORKERS; id++) {
    done.push(runWorker(workerSource, { id, name, rounds: ROUNDS, t0: T0, sync: sync.buffer }));
  }
  while (Atomics.load(sync, 0) < WORKERS) {
    assert.notEqual(Atomics.wait(sync, 0, Atomics.load(sync, 0), WAIT_MS), 'timed-out', 'workers never got ready');
  }
  Atomics.store(sync, 1, 1);
  Atomics.notify(sync, 1);
  const results = (await Promise.all(done)).map((messages) => messages[0]);

  const oneLockWinners = results.filter((r) => r.oneLockWins > 0);
  assert.equal(results.reduce((sum, r) => sum + r.oneLockWins, 0), 1, 'one true among 4 x 5000 adds of one key');
  assert.equal(valueOf(main, 'the-lock'), `worker ${oneLockWinners[0].id}`, 'the value is the winner\'s');
  const winnerOf = new Map();
  for (const { id, roundsWon } of results) {
    for (const round of roundsWon) {
      assert.ok(!winnerOf.has(round), `round ${round} won by workers ${winnerOf.get(round)} and ${id}`);
      winnerOf.set(round, id);
    }
  }
  assert.equal(winnerOf.size, ROUNDS, 'every round had a winner');
  for (let round = 0; round < ROUNDS; round++) {
    assert.equal(valueOf(main, `lock:${round}`), `worker ${winnerOf.get(round)}`, `lock:${round}`);
  }
  assert.equal(JSON.parse(main.statsJson()).sets, ROUNDS + 1, 'only the winning adds wrote');
  main.close();
});

test('a live name cannot be taken twice, from this thread or a worker', async () => {
  const name = freshName('taken');
  const first = new CoreCache(optionsJson, { name });
  first.set('k', bytes('first'), NaN, NaN, null, T0);
  assertCode(() => new CoreCache(optionsJson, { name }), 'name_taken', 'main thread');
  const [fromWorker] = await runWorker(
    `try { new addon.CoreCache('{"maxEntries":10}', { name: workerData.name }); parentPort.postMessage('created'); }
     catch (error) { parentPort.postMessage(error.code); }`,
    { name },
  );
  assert.equal(fromWorker, 'name_taken');
  assert.equal(valueOf(first, 'k'), 'first', 'the refused creations left the cache alone');
  // Other names and unnamed caches are unaffected.
  const other = new CoreCache(optionsJson, { name: freshName('other') });
  const unnamed = new CoreCache(optionsJson);
  assert.equal(other.entries() + unnamed.entries(), 0);
  other.close();
  unnamed.close();
  first.close();
});

test('openCoreCache: unknown names are not_found, wrong types invalid_argument', () => {
  assertCode(() => openCoreCache(freshName('never-created')), 'not_found');
  assertCode(() => openCoreCache(''), 'not_found');
  for (const bad of [undefined, null, 42, {}, ['name']]) assertCode(() => openCoreCache(bad), 'invalid_argument', String(bad));
  assertCode(() => openCoreCache(), 'invalid_argument', 'no argument');
  // An unnamed cache is not reachable by any name.
  const unnamed = new CoreCache(optionsJson);
  assertCode(() => openCoreCache(''), 'not_found');
  unnamed.close();
});

test('close detaches one handle; the last close frees the cache and its name', () => {
  const name = freshName('close');
  const created = new CoreCache(optionsJson, { name });
  const opened = openCoreCache(name);
  assert.ok(opened instanceof CoreCache);
  created.set('k', bytes('v'), NaN, NaN, null, T0);
  assert.equal(valueOf(opened, 'k'), 'v', 'both handles see one cache');
  const third = openCoreCache(name);

  created.close();
  assertCode(() => created.entries(), 'closed', 'the closed handle');
  assertCode(() => created.close(), 'closed', 'a second close of it');
  assert.equal(valueOf(opened, 'k'), 'v', 'the other handles go on working');
  opened.set('k2', bytes('v2'), NaN, NaN, null, T0);
  assert.equal(valueOf(third, 'k2'), 'v2');
  assertCode(() => new CoreCache(optionsJson, { name }), 'name_taken', 'the name lives while a handle does');
  const fourth = openCoreCache(name);
  assert.equal(fourth.entries(), 2);

  opened.close();
  third.close();
  assert.equal(valueOf(fourth, 'k'), 'v');
  fourth.close();
  assertCode(() => openCoreCache(name), 'not_found', 'the last close freed the name');
  const reborn = new CoreCache(optionsJson, { name });
  assert.equal(reborn.entries(), 0, 'a new cache under the old name starts empty');
  reborn.close();
});

test('a worker that exits without close releases its handles', async () => {
  const name = freshName('worker-exit');
  const main = new CoreCache(optionsJson, { name });
  const [entries] = await runWorker(
    `const cache = addon.openCoreCache(workerData.name);
     cache.set('from-worker', Buffer.from('w'), 60000, 0, null, workerData.t0);
     parentPort.postMessage(cache.entries());`,
    { name, t0: T0 },
  );
  assert.equal(entries, 1);
  assert.equal(valueOf(main, 'from-worker'), 'w');
  main.close();
  assertCode(() => openCoreCache(name), 'not_found', 'the exited worker held no handle any more');

  // A name created in a worker dies with it too.
  const workerName = freshName('made-in-worker');
  await runWorker(`new addon.CoreCache('{"maxEntries":10}', { name: workerData.name }); parentPort.postMessage(1);`, {
    name: workerName,
  });
  assertCode(() => openCoreCache(workerName), 'not_found');
  new CoreCache(optionsJson, { name: workerName }).close();
});

test('a handle garbage-collected without close releases the cache and its name', async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  const name = freshName('gc');
  (() => {
    const dropped = new CoreCache(optionsJson, { name });
    dropped.set('k', bytes('v'), NaN, NaN, null, T0);
  })();
  // Finalizers run after a collection, from the event loop: collect and yield until the name
  // is free, a bounded number of times.
  let freed = false;
  for (let round = 0; round < 50 && !freed; round++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    try {
      openCoreCache(name).close();
    } catch (error) {
      assert.equal(error.code, 'not_found');
      freed = true;
    }
  }
  assert.ok(freed, 'the collected handle released its name');
});
