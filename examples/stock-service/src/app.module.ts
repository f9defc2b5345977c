// src/app.module.ts: the stock service as one Nest module, built from its settings: the
// simulated vendor, the market endpoints and, by CACHE_MODE, tickcache's TickCacheModule (L1,
// with REDIS_URL Redis as L2, the load lock and the invalidation bus; warming, the refresher,
// the admin endpoints, metrics) or, for the benchmark's peer, @nestjs/cache-manager over Keyv.
//
// Invariants: the same MarketService answers in every mode (only the caching around it
// changes), so the benchmark compares caches, not apps; everything the app opens (Redis
// connections, the refresher, warming in progress, metrics) is closed or awaited by app.close().

import { Logger, Module } from '@nestjs/common';
import type { DynamicModule, Provider, Type } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CacheModule } from '@nestjs/cache-manager';
import { TerminusModule } from '@nestjs/terminus';
import KeyvRedis from '@keyv/redis';
import { KeyvCacheableMemory } from 'cacheable';
import { Keyv } from 'keyv';
import { Registry } from 'prom-client';

import { ThrottledLog } from './cache/throttled-log.js';
import type { StockServiceSettings } from './config.js';
import { VendorErrorsFilter } from './http/vendor-errors.filter.js';
import { MarketController } from './market/market.controller.js';
import { MarketService } from './market/market.service.js';
import { METRICS_REGISTRY, OpsController } from './ops/ops.controller.js';
import { StockAdminController } from './ops/stock-admin.controller.js';
import { CacheManagerMarketController } from './peer/cache-manager.controller.js';
import { SETTINGS } from './settings.token.js';
import { jsonSerializer } from './tickcache.js';
import type { CacheOptions, TieredCache } from './tickcache.js';
import { TICKCACHE_ADMIN_OPTIONS, TickCacheModule } from './tickcache-nest.js';
import type { TickCacheModuleOptions } from './tickcache-nest.js';
import { VendorController } from './vendor/vendor.controller.js';
import { SimulatedVendor } from './vendor/vendor.js';

/** L1's options: the policy (TTL rules, market hours), and the file store when configured. */
function l1Options(settings: StockServiceSettings): CacheOptions {
  const clock = settings.clock !== undefined ? { clock: settings.clock } : {};
  if (settings.l1Store === undefined) return { maxEntries: settings.l1MaxEntries, config: settings.policy, ...clock };
  return {
    maxEntries: settings.l1MaxEntries,
    config: settings.policy,
    ...clock,
    // A file store keeps values as bytes. The serializer is named explicitly: bytes mode's default
    // stores plain objects by a shape table that lives in the process, which a restarted process
    // does not have (reported with this example; the explicit one writes self-describing JSON).
    mode: 'bytes',
    serializer: jsonSerializer,
    store: { type: 'file', directory: settings.l1Store.directory, maxFileBytes: settings.l1Store.maxFileBytes },
  };
}

function tickcacheOptions(settings: StockServiceSettings, registry: Registry): TickCacheModuleOptions {
  const logger = new Logger('StockService');
  const errors = new ThrottledLog(new Logger('TickCache'));
  return {
    l1: l1Options(settings),
    ...(settings.redisUrl !== undefined ? { redis: { url: settings.redisUrl, namespace: settings.redisNamespace } } : {}),
    events: settings.events,
    minHitRate: settings.minHitRate,
    // A vendor call past 10 s is answered 504, or with the stale value when there is one.
    defaults: { hardTimeout: '10s' },
    ...(settings.clock !== undefined ? { clock: settings.clock } : {}),
    onError: (error, context) => errors.warn(context, error),
    refresher: {
      intervalMs: settings.refreshIntervalMs,
      onReport: (report) => logger.log(JSON.stringify({ event: 'refreshed', ...report, durationMs: Math.round(report.durationMs) })),
    },
    // The service listens at once; the first requests for a key still loading share its load.
    warmInBackground: true,
    warm: async (cache: TieredCache, moduleRef) => {
      if (!cache.enabled) return; // CACHE_MODE=off (app.ts)
      const report = await moduleRef.get(MarketService, { strict: false }).warm(cache, settings.warmSymbols);
      logger.log(JSON.stringify({ event: 'warmed', ...report, durationMs: Math.round(report.durationMs) }));
    },
    metrics: { registry },
    admin: settings.adminToken !== undefined ? { token: settings.adminToken } : {},
  };
}

function cacheManagerModule(settings: StockServiceSettings): DynamicModule {
  const { redisUrl } = settings;
  return CacheModule.registerAsync({
    useFactory: () => ({
      // Nest's documented two-store setup: memory in front of Redis.
      stores: [
        new Keyv({ store: new KeyvCacheableMemory({ lruSize: settings.l1MaxEntries }) }),
        ...(redisUrl !== undefined ? [new Keyv({ store: new KeyvRedis(redisUrl), namespace: settings.redisNamespace })] : []),
      ],
    }),
  });
}

@Module({})
export class StockServiceModule {
  static forRoot(settings: StockServiceSettings): DynamicModule {
    const peer = settings.cacheMode === 'cache-manager';
    const registry = new Registry();
    const imports: DynamicModule[] = peer
      ? [cacheManagerModule(settings)]
      : [TickCacheModule.forRoot({ ...tickcacheOptions(settings, registry), isGlobal: false }), TerminusModule.forRoot({ logger: false })];
    const controllers: Array<Type<unknown>> = peer
      ? [CacheManagerMarketController, VendorController]
      : [MarketController, VendorController, OpsController, StockAdminController];
    const providers: Provider[] = [
      { provide: SETTINGS, useValue: settings },
      {
        provide: SimulatedVendor,
        useFactory: () => new SimulatedVendor({ ...settings.vendor, ...(settings.clock !== undefined ? { clock: settings.clock } : {}) }),
      },
      MarketService,
      { provide: METRICS_REGISTRY, useValue: registry },
      // The guard of this module's own admin routes (vendor knobs, /cache/clear/{symbol}): the
      // same token as tickcache's admin controller; none configured, nobody gets in.
      { provide: TICKCACHE_ADMIN_OPTIONS, useValue: settings.adminToken !== undefined ? { token: settings.adminToken } : {} },
      { provide: APP_FILTER, useClass: VendorErrorsFilter },
    ];
    return { module: StockServiceModule, imports, controllers, providers };
  }
}
