// js/src/tiered/create.ts: createTieredCache, the one call a service makes: an L1 (a tickcache
// Cache), and with `redis` the L2 adapter, the cross-instance load lock and the invalidation bus
// on it, all closed by the TieredCache's close().
//
// Invariants: every connection opened here is owned here and closed on close(); one given by
// the caller (`redis.client`) is left open. The bus gets its own connection (a subscribed Redis
// connection cannot send other commands).

import { Cluster } from 'ioredis';
import type { ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis';

import type { Cache } from '../cache.js';
import { TickcacheError } from '../errors.js';
import { RedisL2Adapter } from '../l2/redis.js';
import type { CacheOptions } from '../types.js';
import { RedisBus } from './bus.js';
import type { EventMap } from './events.js';
import { RedisLoadLock, SharedCacheLock } from './lock.js';
import { TieredCache } from './tiered-cache.js';
import type { Stored, TieredCacheOptions } from './tiered-cache.js';

export interface TieredRedisOptions {
  /** A URL ("redis://127.0.0.1:6379") or ioredis options for one server. */
  url?: string | RedisOptions;
  /** Startup nodes for Redis Cluster. */
  cluster?: { nodes: ClusterNode[]; options?: ClusterOptions };
  /** An ioredis connection of yours (left open by close()). */
  client?: Redis | Cluster;
  /** Prefix of every key and of the bus channel. Default "tc:". */
  namespace?: string;
  /** Longest wait for one Redis request, ms. Default 250. */
  timeoutMs?: number;
  /** The invalidation bus (default on). */
  bus?: boolean;
  /** The cross-instance load lock (default on). */
  lock?: boolean;
}

export interface CreateTieredOptions extends Omit<TieredCacheOptions, 'l1' | 'l2' | 'lock' | 'bus'> {
  /** L1's options (createCache). Default { maxEntries: 10000 }. */
  l1?: CacheOptions;
  redis?: TieredRedisOptions;
  /** Creates L1 (the package entry passes its createCache: native or wasm). */
  createL1: (options: CacheOptions) => Promise<Cache<Stored>>;
}

export async function createTieredCache(options: CreateTieredOptions): Promise<TieredCache> {
  const { l1: requestedL1 = { maxEntries: 10_000 }, redis, createL1, ...given } = options;
  // The policy configuration may carry the event map beside its rules ("events"): the events are
  // this layer's, the rest is the core's.
  let l1Options = requestedL1;
  let rest = given;
  const configEvents = (requestedL1.config as { events?: unknown } | undefined)?.events;
  if (configEvents !== undefined) {
    const { events: _events, ...coreConfig } = requestedL1.config as Record<string, unknown>;
    l1Options = { ...requestedL1, config: coreConfig };
    if (given.events !== undefined) {
      throw new TickcacheError('invalid_option', 'events given twice: in the options and in l1.config.events');
    }
    rest = { ...given, events: configEvents as EventMap };
  }
  const l1 = await createL1(l1Options);
  const closers: Array<() => Promise<void> | void> = [() => l1.close()];
  // A named L1 is shared by worker_threads: they coalesce their loads through a lock entry in it.
  const workerLock = l1Options.name !== undefined ? { workerLock: new SharedCacheLock(l1 as Cache<unknown>) } : {};
  try {
    if (redis === undefined) return new TieredCache({ ...rest, ...workerLock, l1, closers });
    const namespace = redis.namespace ?? 'tc:';
    const sources = [redis.url, redis.cluster, redis.client].filter((x) => x !== undefined).length;
    if (sources !== 1) {
      throw new TickcacheError('invalid_option', 'redis takes exactly one of url, cluster or client');
    }
    const adapter = new RedisL2Adapter({
      namespace,
      ...(redis.timeoutMs !== undefined ? { timeoutMs: redis.timeoutMs } : {}),
      ...(redis.client !== undefined ? { client: redis.client } : {}),
      ...(redis.cluster !== undefined ? { cluster: redis.cluster } : {}),
      ...(redis.url !== undefined ? { redis: redis.url } : {}),
      ...(rest.clock !== undefined ? { clock: rest.clock } : {}),
    });
    closers.unshift(() => adapter.close());
    let bus: RedisBus | undefined;
    if (redis.bus !== false) {
      // The subscriber queues while disconnected (SUBSCRIBE must survive a reconnect).
      const client = adapter.client;
      const subscriber =
        client instanceof Cluster
          ? client.duplicate(undefined, { enableOfflineQueue: true })
          : client.duplicate({ enableOfflineQueue: true });
      bus = new RedisBus({
        publisher: adapter.client,
        subscriber,
        channel: `${namespace}bus`,
        ...(rest.onError !== undefined ? { onError: rest.onError } : {}),
      });
      closers.unshift(() => subscriber.disconnect());
      closers.unshift(() => bus?.close());
      await bus.ready();
    }
    const lock = redis.lock === false ? undefined : new RedisLoadLock(adapter.client, namespace);
    return new TieredCache({
      ...rest,
      ...workerLock,
      l1,
      l2: adapter,
      ...(lock !== undefined ? { lock } : {}),
      ...(bus !== undefined ? { bus } : {}),
      closers,
    });
  } catch (error) {
    for (const close of closers) await Promise.resolve(close()).catch(() => {});
    throw error;
  }
}
