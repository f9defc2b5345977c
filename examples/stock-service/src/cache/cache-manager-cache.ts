// src/cache/cache-manager-cache.ts: the benchmark's peer: the same service on
// @nestjs/cache-manager (cache-manager 7 over Keyv: an in-memory Keyv in front of @keyv/redis,
// the two-store setup Nest's documentation shows), used the way its users use it: `wrap(key,
// loader, ttl)`, which coalesces concurrent misses within one process.
//
// Invariants: the TTLs are the policy's (config.ts), read from the same rules tickcache uses;
// cache-manager has no market hours, so a market-hours rule gives its open-market TTL; a key no
// rule matches gets the policy's default TTL, else 5 minutes.

import type { Cache } from 'cache-manager';

import type { PolicyConfig } from '../tickcache.js';
import type { CachedAnswer, MarketCache } from './market-cache.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

function durationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+)(ms|s|m|h|d|w)?$/.exec(value);
  return match === null ? undefined : Number(match[1]) * UNITS[match[2] ?? 'ms']!;
}

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '\\' && i + 1 < glob.length) source += glob[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

/** The policy's rules as (pattern, fixed TTL) pairs, in file order; then the default TTL. */
export function fixedTtls(policy: PolicyConfig): (key: string) => number {
  const rules: Array<{ pattern: RegExp; ttlMs: number }> = [];
  for (const rule of policy.rules ?? []) {
    const glob = rule.match ?? (rule.namespace !== undefined ? `${rule.namespace}:*` : undefined);
    const marketHours = rule['marketHours'] as { open?: unknown } | undefined;
    const ttlMs = durationMs(rule.ttl) ?? durationMs(marketHours?.open);
    if (glob !== undefined && ttlMs !== undefined) rules.push({ pattern: globToRegExp(glob), ttlMs });
  }
  const fallback = durationMs(policy.defaults?.ttl) ?? 5 * 60_000;
  return (key) => rules.find((rule) => rule.pattern.test(key))?.ttlMs ?? fallback;
}

export class CacheManagerMarketCache implements MarketCache {
  readonly mode = 'cache-manager' as const;
  private readonly ttlOf: (key: string) => number;

  constructor(
    readonly cache: Cache,
    policy: PolicyConfig,
  ) {
    this.ttlOf = fixedTtls(policy);
  }

  async fetch<V>(key: string, load: () => Promise<V>): Promise<CachedAnswer<V>> {
    const ttl = this.ttlOf(key);
    let loaded = false;
    const value = await this.cache.wrap<V>(
      key,
      async () => {
        loaded = true;
        return load();
      },
      ttl,
    );
    // A caller that joined another caller's load reports HIT: cache-manager does not say.
    return loaded ? { value, status: 'MISS', tier: 'source' } : { value, status: 'HIT', tier: 'l1' };
  }
}
