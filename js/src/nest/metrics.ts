// js/src/nest/metrics.ts: a TieredCache's stats() exported through prom-client, when it is
// installed. prom-client is an optional peer: it is loaded with a dynamic import when the
// collector starts; absent, there are no metrics and no crash (a warning says why).
//
// Invariants: values are read from stats() at scrape time (collect), never pushed, so they
// cannot drift; counters only grow because stats() counters only grow; every metric this
// collector registered is removed from the registry by stop(), so an app can be created and
// closed repeatedly in one process (tests) without "already registered" errors.

import { Logger } from '@nestjs/common';

import type { TieredCache } from '../tiered/tiered-cache.js';
import { l1MemoryOf } from './report.js';
import type { TickCacheMetricsOptions } from './options.js';

// The parts of prom-client used here (so its types are not needed to build tickcache).
interface MetricLike {
  reset(): void;
  inc?(labels: Record<string, string>, value: number): void;
  set?(labels: Record<string, string>, value: number): void;
}
interface RegistryLike {
  removeSingleMetric(name: string): void;
  getSingleMetric(name: string): unknown;
}
interface PromClientLike {
  Counter: new (config: Record<string, unknown>) => MetricLike;
  Gauge: new (config: Record<string, unknown>) => MetricLike;
  register: RegistryLike;
}

type Sample = [labels: Record<string, string>, value: number];

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  labelNames: string[];
  read: (cache: TieredCache) => Sample[];
}

/** A family of one unlabelled sample. */
function scalar(name: string, help: string, type: Family['type'], read: (cache: TieredCache) => number): Family {
  return { name, help, type, labelNames: [], read: (cache) => [[{}, read(cache)]] };
}

const FAMILIES: Family[] = [
  {
    name: 'requests_total',
    help: 'Lookups per tier and result (hit, graced, miss).',
    type: 'counter',
    labelNames: ['tier', 'result'],
    read: (cache) => {
      const s = cache.stats();
      return (['l1', 'l2'] as const).flatMap((tier): Sample[] => [
        [{ tier, result: 'hit' }, s[tier].hits],
        [{ tier, result: 'graced' }, s[tier].graced],
        [{ tier, result: 'miss' }, s[tier].misses],
      ]);
    },
  },
  {
    name: 'errors_total',
    help: 'Failed calls per tier.',
    type: 'counter',
    labelNames: ['tier'],
    read: (cache) => {
      const s = cache.stats();
      return [
        [{ tier: 'l1' }, s.l1.errors],
        [{ tier: 'l2' }, s.l2.errors],
        [{ tier: 'loader' }, s.loader.errors],
      ];
    },
  },
  scalar('loader_calls_total', 'Loader (source) calls.', 'counter', (c) => c.stats().loader.calls),
  scalar('loader_timeouts_total', 'Loader calls past their hard timeout.', 'counter', (c) => c.stats().loader.timeouts),
  scalar('coalesced_total', 'Callers that waited for a load already running (stampedes avoided).', 'counter', (c) => c.stats().coalesced),
  scalar('background_refreshes_total', 'Stale or near-expiry values reloaded in the background.', 'counter', (c) => c.stats().backgroundRefreshes),
  scalar('l1_evictions_total', 'Entries L1 evicted to stay within its bound.', 'counter', (c) => c.l1.stats().evictions),
  scalar('hit_ratio', 'Requests answered from a cache tier over all requests.', 'gauge', (c) => c.stats().hitRate),
  scalar('l1_entries', 'Entries in L1.', 'gauge', (c) => c.l1.size),
  {
    name: 'l1_bytes',
    help: 'Charged bytes in L1 (bound: kind="max").',
    type: 'gauge',
    labelNames: ['kind'],
    read: (c) => {
      const memory = l1MemoryOf(c.l1.stats());
      return [
        [{ kind: 'used' }, memory.bytes],
        [{ kind: 'max' }, memory.maxBytes],
      ];
    },
  },
  {
    name: 'latency_seconds',
    help: 'Latency per tier (mean, p50, p99).',
    type: 'gauge',
    labelNames: ['tier', 'stat'],
    read: (c) => {
      const s = c.stats();
      return (['l2', 'loader'] as const).flatMap((tier): Sample[] => [
        [{ tier, stat: 'mean' }, s[tier].latency.meanMs / 1000],
        [{ tier, stat: 'p50' }, s[tier].latency.p50Ms / 1000],
        [{ tier, stat: 'p99' }, s[tier].latency.p99Ms / 1000],
      ]);
    },
  },
  scalar('l2_breaker_open', '1 while the L2 circuit breaker is not closed.', 'gauge', (c) => (c.stats().l2.breaker === 'closed' ? 0 : 1)),
  scalar('enabled', '1 while caching is on (the global switch).', 'gauge', (c) => (c.enabled ? 1 : 0)),
];

function isModuleMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/** Registers prom-client metrics for a TieredCache; start() is a no-op when prom-client is absent. */
export class TickCacheMetrics {
  private registered: { registry: RegistryLike; names: string[] } | undefined;
  /** Why there are no metrics (prom-client missing), when start() found none. */
  unavailableReason: string | undefined;
  private readonly logger = new Logger('TickCache');

  /** Resolves to whether metrics were registered. */
  async start(cache: TieredCache, options: TickCacheMetricsOptions = {}): Promise<boolean> {
    if (this.registered !== undefined) return true;
    let client: PromClientLike;
    try {
      const load = options.load ?? (() => import('prom-client'));
      const loaded = (await load()) as PromClientLike & { default?: PromClientLike };
      client = loaded.Counter !== undefined ? loaded : (loaded.default as PromClientLike);
      if (client?.Counter === undefined) throw new Error('the loaded module has no Counter (is it prom-client?)');
    } catch (error) {
      this.unavailableReason = isModuleMissing(error)
        ? 'prom-client is not installed'
        : `prom-client did not load: ${String(error)}`;
      this.logger.warn(`no cache metrics: ${this.unavailableReason}`);
      return false;
    }
    const registry = (options.registry as RegistryLike | undefined) ?? client.register;
    const prefix = options.prefix ?? 'tickcache_';
    const labels = options.labels ?? {};
    const extraNames = Object.keys(labels);
    const names: string[] = [];
    try {
      for (const family of FAMILIES) {
        const name = `${prefix}${family.name}`;
        const Metric = family.type === 'counter' ? client.Counter : client.Gauge;
        new Metric({
          name,
          help: family.help,
          labelNames: [...family.labelNames, ...extraNames],
          registers: [registry],
          collect(this: MetricLike) {
            // Read at scrape time: a counter is reset and set to the cache's own (monotonic) count.
            this.reset();
            for (const [sampleLabels, value] of family.read(cache)) {
              const all = { ...sampleLabels, ...labels };
              if (family.type === 'counter') this.inc!(all, Number.isFinite(value) ? value : 0);
              else this.set!(all, Number.isFinite(value) ? value : 0);
            }
          },
        });
        names.push(name);
      }
    } catch (error) {
      for (const name of names) registry.removeSingleMetric(name);
      throw error;
    }
    this.registered = { registry, names };
    return true;
  }

  /** Removes what start() registered. */
  stop(): void {
    const registered = this.registered;
    this.registered = undefined;
    if (registered === undefined) return;
    for (const name of registered.names) registered.registry.removeSingleMetric(name);
  }
}
