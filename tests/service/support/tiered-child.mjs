// tests/service/support/tiered-child.mjs: one service instance in its own Node process, for the
// multi-process tests (stampede, bus, degradation): a createTieredCache from the BUILT package
// (dist/, as a service would import it) on the Redis the test started, driven over the IPC
// channel by support/instances.ts.
//
// Protocol: the parent sends { id, op, ...args }; the child answers { type: 'reply', id, result }
// or { type: 'reply', id, error: { message, code } }, and reports things that happen later
// (a watched key disappearing, a loader starting) as { type: 'event', name, data }.
// Times that cross processes are Date.now() epoch ms: both processes read the same system clock.
//
// Invariants: the child never outlives its parent (the IPC channel closing ends it), and every
// loader call is counted both here and, when a counter key is given, in Redis (INCR), so a test
// can count loads across processes without trusting any one of them.

import { Redis } from 'ioredis';

import { createTieredCache } from '../../../dist/esm/index.js';

const config = JSON.parse(process.argv[2] ?? '{}');

// The parent gone (however it went): nothing is left to report to.
process.on('disconnect', () => process.exit(0));

const redisOptions =
  config.cluster !== undefined
    ? { cluster: { nodes: config.cluster } }
    : { url: { host: '127.0.0.1', port: config.port } };

const errors = [];
const tiered = await createTieredCache({
  l1: { maxEntries: config.maxEntries ?? 10_000 },
  redis: {
    ...redisOptions,
    namespace: config.namespace,
    ...(config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}),
  },
  ...(config.lockTtl !== undefined ? { lockTtl: config.lockTtl } : {}),
  onError: (error, context) => {
    if (errors.length < 50) errors.push(`${context}: ${error?.message ?? error}`);
  },
});

// A side connection for the loaders' INCR: independent of the cache's own connections.
const counter = new Redis({ host: '127.0.0.1', port: config.port, lazyConnect: true });
counter.on('error', () => {});

let loaderCalls = 0;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function emit(name, data) {
  process.send?.({ type: 'event', name, data });
}

async function countLoad(counterKey) {
  loaderCalls++;
  if (counterKey !== undefined) {
    if (counter.status === 'wait') await counter.connect();
    await counter.incr(counterKey);
  }
}

function status() {
  const bus = tiered.bus;
  return {
    pid: process.pid,
    loaderCalls,
    l2Ready: tiered.l2.client.status === 'ready',
    breaker: tiered.breakerState,
    bus: {
      connected: bus.connected,
      received: bus.received,
      ignoredOwn: bus.ignoredOwn,
      resubscribed: bus.resubscribed,
    },
    stats: tiered.stats(),
    errors: [...errors],
  };
}

/** Polls L1 every millisecond until every key of `gone` is absent; reports when. */
function watch(id, gone, kept, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  const check = () => {
    const now = Date.now();
    if (gone.every((key) => !tiered.l1.has(key))) {
      clearInterval(timer);
      emit('observed', { watch: id, observedAt: now, keptPresent: kept.filter((key) => tiered.l1.has(key)) });
    } else if (now > deadline) {
      clearInterval(timer);
      emit('observed', { watch: id, observedAt: null, stillPresent: gone.filter((key) => tiered.l1.has(key)) });
    }
  };
  const timer = setInterval(check, 1);
}

const handlers = {
  status,

  /** getOrSet of each key (value: "<key>=<value>"), in order; says where each answer came from. */
  async fill({ entries }) {
    const sources = {};
    for (const { key, value, ttl, tags } of entries) {
      const got = await tiered.getOrSetStored(
        key,
        async () => {
          loaderCalls++;
          return value;
        },
        { ttl, ...(tags !== undefined ? { tags } : {}) },
      );
      if (got.value !== value) throw new Error(`fill ${key}: got ${JSON.stringify(got.value)}, want ${JSON.stringify(value)}`);
      sources[key] = got.source;
    }
    return sources;
  },

  has({ keys }) {
    return keys.filter((key) => tiered.l1.has(key));
  },

  /** Starts watching at once (the reply) and reports the disappearance later (an event). */
  watch({ watch: watchId, gone, kept = [], timeoutMs = 3000 }) {
    watch(watchId, gone, kept, timeoutMs);
    return 'watching';
  },

  /** One invalidation through the TieredCache; the reply says when it started and ended. */
  async invalidate({ kind, values }) {
    const startedAt = Date.now();
    switch (kind) {
      case 'delete':
        await tiered.delete(values);
        break;
      case 'tags':
        await tiered.invalidateTags(values);
        break;
      case 'prefix':
        await tiered.invalidatePrefix(values[0]);
        break;
      case 'pattern':
        await tiered.invalidatePattern(values[0]);
        break;
      case 'clear':
        await tiered.clear();
        break;
      default:
        throw new Error(`unknown invalidation ${kind}`);
    }
    return { startedAt, finishedAt: Date.now() };
  },

  /**
   * Deletes `key`, writes it again at once, then waits for its own delete to come back over the
   * bus: an instance that applied its own messages would lose the value it just wrote.
   */
  async deleteThenSet({ key, value, ttl }) {
    const before = tiered.bus.ignoredOwn;
    await tiered.delete(key);
    await tiered.set(key, value, { ttl });
    const deadline = Date.now() + 2000;
    while (tiered.bus.ignoredOwn === before && Date.now() < deadline) await sleep(1);
    return { echoed: tiered.bus.ignoredOwn - before, stillCached: tiered.l1.has(key), value: tiered.l1.peek(key)?.value.value };
  },

  /**
   * `callers` concurrent getOrSet calls for `key`, started at `startAt` (epoch ms, so that every
   * process starts together); the loader takes `loadMs`. Reports the loads made here, the values
   * seen and how long the first caller waited.
   */
  async stampede({ key, callers, loadMs, counterKey, startAt, ttl }) {
    const callsBefore = loaderCalls;
    const statsBefore = tiered.stats();
    if (counterKey !== undefined && counter.status === 'wait') await counter.connect();
    const wait = startAt - Date.now();
    if (wait > 0) await sleep(wait);
    const started = performance.now();
    const loader = async () => {
      await countLoad(counterKey);
      await sleep(loadMs);
      return { loadedBy: process.pid, at: Date.now() };
    };
    const answers = await Promise.all(
      Array.from({ length: callers }, () =>
        tiered
          .getOrSetStored(key, loader, { ttl })
          .then((got) => ({ got, elapsedMs: performance.now() - started, at: Date.now() })),
      ),
    );
    const stats = tiered.stats();
    return {
      pid: process.pid,
      loads: loaderCalls - callsBefore,
      values: [...new Set(answers.map(({ got }) => JSON.stringify(got.value)))],
      sources: answers.reduce((counts, { got }) => ({ ...counts, [got.source]: (counts[got.source] ?? 0) + 1 }), {}),
      firstElapsedMs: answers[0].elapsedMs,
      firstAnsweredAt: answers[0].at,
      lastElapsedMs: Math.max(...answers.map(({ elapsedMs }) => elapsedMs)),
      coalesced: stats.coalesced - statsBefore.coalesced,
      startLateMs: Math.max(0, -wait),
    };
  },

  /** A getOrSet whose loader counts itself, says it started, and never finishes (to be killed). */
  hang({ key, counterKey, ttl }) {
    void tiered
      .getOrSet(
        key,
        async () => {
          await countLoad(counterKey);
          emit('loading', { key, pid: process.pid, at: Date.now() });
          return new Promise(() => {});
        },
        { ttl },
      )
      .catch(() => {});
    return 'started';
  },

  async close() {
    await tiered.close();
    counter.disconnect();
    setImmediate(() => process.exit(0));
    return 'closed';
  },
};

process.on('message', async (message) => {
  const { id, op, ...args } = message;
  const handler = handlers[op];
  try {
    if (handler === undefined) throw new Error(`unknown op ${op}`);
    const result = await handler(args);
    process.send?.({ type: 'reply', id, result });
  } catch (error) {
    process.send?.({ type: 'reply', id, error: { message: String(error?.message ?? error), code: error?.code } });
  }
});

process.send?.({ type: 'ready', pid: process.pid });
