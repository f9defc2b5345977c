// js/src/tiered/lock.ts: the locks that let one caller load a key while the others wait --
// across the worker_threads that share a named cache (an entry added to it) and across the
// instances of a service (Redis) -- and what a lock holder promises.
//
// Invariants: a lock always expires (a holder that dies cannot block a key for longer than
// the lock's TTL: another instance then loads); release only removes the lock it took (a token
// compare), never one a later holder took after expiry.

import type { Cluster, Redis } from 'ioredis';

import type { Cache } from '../cache.js';

export interface LockHandle {
  release(): Promise<void>;
}

export interface LoadLock {
  /** The lock for `key`, or undefined when another caller holds it. */
  acquire(key: string, ttlMs: number): Promise<LockHandle | undefined>;
}

// Deletes the key only if it still holds our token: a lock that expired and was taken by
// someone else is theirs.
const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

let tokenCounter = 0;

/** SET key token NX PX ttl; one key per cached key, under the namespace, so it lands on the key's cluster node. */
export class RedisLoadLock implements LoadLock {
  constructor(
    private readonly client: Redis | Cluster,
    private readonly namespace: string,
  ) {}

  async acquire(key: string, ttlMs: number): Promise<LockHandle | undefined> {
    const lockKey = `${this.namespace}lock:${key}`;
    const token = `${process.pid}:${Date.now()}:${++tokenCounter}:${Math.random()}`;
    const ok = await this.client.set(lockKey, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
    if (ok !== 'OK') return undefined;
    return {
      release: async () => {
        await this.client.eval(RELEASE_SCRIPT, 1, lockKey, token);
      },
    };
  }
}

/**
 * A lock entry in a cache shared by worker_threads (a named, bytes-mode cache): Cache.add is
 * atomic in the core, so of the workers adding one lock key exactly one wins; the entry's TTL is
 * the lock's expiry. Lock keys start with a NUL byte, which no key a caller builds from text
 * is expected to start with.
 */
export class SharedCacheLock implements LoadLock {
  constructor(private readonly cache: Cache<unknown>) {}

  async acquire(key: string, ttlMs: number): Promise<LockHandle | undefined> {
    const lockKey = `\u0000lock:${key}`;
    const token = `${process.pid}:${++tokenCounter}:${Math.random()}`;
    if (!this.cache.add(lockKey, { value: token, version: 0, ttlMs }, { ttl: Math.max(1, Math.ceil(ttlMs)), grace: 0 })) {
      return undefined;
    }
    return {
      release: async () => {
        // Only our own lock: after an expiry another worker may hold a new one.
        const current = this.cache.peek(lockKey)?.value as { value?: unknown } | undefined;
        if (current?.value === token) this.cache.delete(lockKey);
      },
    };
  }
}
