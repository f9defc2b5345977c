// src/app.module.ts: the stock service as one Nest module, built from its settings: the vendor,
// the market endpoints and, by CACHE_MODE, tickcache (L1, with REDIS_URL Redis as L2 and the
// bus), @nestjs/cache-manager over Keyv (the benchmark's peer) or no cache at all.
//
// Invariants: the same controllers and service run in every mode (only the MarketCache behind
// them changes), so the benchmark compares caches, not apps; everything the module opens
// (Redis connections, the refresher, warming in progress) is closed or awaited on shutdown.

import { Inject, Injectable, Logger, Module } from '@nestjs/common';
import type { DynamicModule, OnApplicationBootstrap, OnApplicationShutdown, Provider } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CACHE_MANAGER, CacheModule } from '@nestjs/cache-manager';
import type { Cache } from 'cache-manager';
import { Keyv } from 'keyv';
import KeyvRedis from '@keyv/redis';
import { KeyvCacheableMemory } from 'cacheable';

import { CacheManagerMarketCache } from './cache/cache-manager-cache.js';
import { MARKET_CACHE, NoMarketCache, TickcacheMarketCache } from './cache/market-cache.js';
import { ThrottledLog } from './cache/throttled-log.js';
import type { StockServiceSettings } from './config.js';
import { AdminTokenGuard } from './http/admin-token.guard.js';
import { CacheHeadersInterceptor } from './http/cache-headers.interceptor.js';
import { VendorErrorsFilter } from './http/vendor-errors.filter.js';
import { MarketController } from './market/market.controller.js';
import { MarketService } from './market/market.service.js';
import type { WarmReport } from './market/market.service.js';
import { SETTINGS } from './settings.token.js';
import { createTieredCache } from './tickcache.js';
import type { TieredCache } from './tickcache.js';
import { VendorController } from './vendor/vendor.controller.js';
import { SimulatedVendor } from './vendor/vendor.js';

/** The TieredCache (the same token string as tickcache's Nest module uses). */
export const TIERED_CACHE = 'tickcache:TieredCache';

/** Warming at start and the refresher: started when the app boots, stopped when it shuts down. */
@Injectable()
export class CacheLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('StockService');
  /** Resolves when start-up warming is over (at once with caching off). */
  warmed: Promise<WarmReport | undefined> = Promise.resolve(undefined);

  constructor(
    @Inject(SETTINGS) private readonly settings: StockServiceSettings,
    @Inject(MarketService) private readonly market: MarketService,
    @Inject(MARKET_CACHE) private readonly cache: TickcacheMarketCache | CacheManagerMarketCache | NoMarketCache,
  ) {}

  onApplicationBootstrap(): void {
    if (this.cache.mode === 'off') return;
    // In the background: the service answers while the first keys load (a miss is a vendor call).
    this.warmed = this.market.warm(this.settings.warmSymbols).then((report) => {
      this.logger.log(JSON.stringify({ event: 'warmed', ...report, durationMs: Math.round(report.durationMs) }));
      return report;
    });
    if (this.cache instanceof TickcacheMarketCache) {
      this.cache.tiered.startRefresher({
        intervalMs: this.settings.refreshIntervalMs,
        onReport: (report) => this.logger.log(JSON.stringify({ event: 'refreshed', ...report, durationMs: Math.round(report.durationMs) })),
      });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.warmed.catch(() => undefined);
    if (this.cache instanceof TickcacheMarketCache) await this.cache.tiered.close();
    if (this.cache instanceof CacheManagerMarketCache) await this.cache.cache.disconnect();
  }
}

function cacheProviders(settings: StockServiceSettings): { imports: DynamicModule[]; providers: Provider[] } {
  switch (settings.cacheMode) {
    case 'off':
      return { imports: [], providers: [{ provide: MARKET_CACHE, useValue: new NoMarketCache() }] };
    case 'cache-manager': {
      const { redisUrl } = settings;
      return {
        imports: [
          CacheModule.registerAsync({
            useFactory: () => ({
              // Nest's documented two-store setup: memory in front of Redis.
              stores: [
                new Keyv({ store: new KeyvCacheableMemory({ lruSize: settings.l1MaxEntries }) }),
                ...(redisUrl !== undefined ? [new Keyv({ store: new KeyvRedis(redisUrl), namespace: settings.redisNamespace })] : []),
              ],
            }),
          }),
        ],
        providers: [
          {
            provide: MARKET_CACHE,
            useFactory: (cache: Cache) => new CacheManagerMarketCache(cache, settings.policy),
            inject: [CACHE_MANAGER],
          },
        ],
      };
    }
    case 'tickcache': {
      const errors = new ThrottledLog(new Logger('TickCache'));
      return {
        imports: [],
        providers: [
          {
            provide: TIERED_CACHE,
            useFactory: (): Promise<TieredCache> =>
              createTieredCache({
                l1: {
                  maxEntries: settings.l1MaxEntries,
                  config: settings.policy,
                  ...(settings.clock !== undefined ? { clock: settings.clock } : {}),
                },
                ...(settings.redisUrl !== undefined ? { redis: { url: settings.redisUrl, namespace: settings.redisNamespace } } : {}),
                events: settings.events,
                minHitRate: settings.minHitRate,
                // A vendor call past 10 s is answered 504 (or with the stale value, if there is one).
                defaults: { hardTimeout: '10s' },
                ...(settings.clock !== undefined ? { clock: settings.clock } : {}),
                onError: (error, context) => errors.warn(context, error),
              }),
          },
          { provide: MARKET_CACHE, useFactory: (tiered: TieredCache) => new TickcacheMarketCache(tiered), inject: [TIERED_CACHE] },
        ],
      };
    }
  }
}

@Module({})
export class StockServiceModule {
  static forRoot(settings: StockServiceSettings): DynamicModule {
    const cache = cacheProviders(settings);
    return {
      module: StockServiceModule,
      imports: cache.imports,
      controllers: [MarketController, VendorController],
      providers: [
        { provide: SETTINGS, useValue: settings },
        {
          provide: SimulatedVendor,
          useFactory: () => new SimulatedVendor({ ...settings.vendor, ...(settings.clock !== undefined ? { clock: settings.clock } : {}) }),
        },
        ...cache.providers,
        MarketService,
        CacheLifecycle,
        CacheHeadersInterceptor,
        AdminTokenGuard,
        { provide: APP_FILTER, useClass: VendorErrorsFilter },
      ],
    };
  }
}
