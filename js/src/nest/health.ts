// js/src/nest/health.ts: TickCacheHealthIndicator, a @nestjs/terminus health indicator:
//   @Get('health') @HealthCheck() check() { return this.health.check([() => this.cache.isHealthy('cache')]); }
// It builds terminus's result object itself ({ [key]: { status: 'up' | 'down', ... } }, which
// terminus 11's HealthCheckService reads), so tickcache needs no import of @nestjs/terminus.
//
// Invariant: the verdict is the one GET /cache/health gives (TieredCache.health: hit rate at or
// above its threshold, L2 breaker closed, caching on), narrowed by `ignore` for probes that
// must not fail on, e.g., a cold cache's hit rate.

import { Inject, Injectable } from '@nestjs/common';

import type { TieredCache } from '../tiered/tiered-cache.js';
import { TICKCACHE } from './tokens.js';

export type HealthCheckName = 'hitRate' | 'l2' | 'enabled';

export interface TickCacheHealthOptions {
  /** Down below this hit rate. Default: the cache's minHitRate (0.8). */
  minHitRate?: number;
  /** Checks that do not make the indicator down (they are still reported). */
  ignore?: readonly HealthCheckName[];
}

export type TickCacheHealthResult<Key extends string> = Record<
  Key,
  {
    status: 'up' | 'down';
    hitRate: number;
    minHitRate: number;
    requests: number;
    l2: string;
    enabled: boolean;
    failing: HealthCheckName[];
    reasons: string[];
  }
>;

@Injectable()
export class TickCacheHealthIndicator {
  constructor(@Inject(TICKCACHE) private readonly cache: TieredCache) {}

  isHealthy<const Key extends string = 'tickcache'>(key?: Key, options: TickCacheHealthOptions = {}): TickCacheHealthResult<Key> {
    const stats = this.cache.stats();
    const report = this.cache.health(options.minHitRate);
    const failing: HealthCheckName[] = [];
    if (stats.requests > 0 && stats.hitRate < report.minHitRate) failing.push('hitRate');
    if (stats.l2.breaker !== 'closed') failing.push('l2');
    if (!stats.enabled) failing.push('enabled');
    const ignored = new Set(options.ignore ?? []);
    const down = failing.some((check) => !ignored.has(check));
    const name = (key ?? 'tickcache') as Key;
    return {
      [name]: {
        status: down ? 'down' : 'up',
        hitRate: stats.hitRate,
        minHitRate: report.minHitRate,
        requests: stats.requests,
        l2: stats.l2.breaker,
        enabled: stats.enabled,
        failing,
        reasons: report.reasons,
      },
    } as TickCacheHealthResult<Key>;
  }
}
