// js/src/nest/tickcache.module.ts: TickCacheModule, the NestJS module of tickcache:
//   TickCacheModule.forRoot({ l1: { maxEntries: 10_000 }, redis: { url }, events, isGlobal: true })
//   TickCacheModule.forRootAsync({ imports: [ConfigModule], inject: [ConfigService], useFactory: (config) => ({ ... }) })
// provides the TieredCache (inject it by class, `constructor(private cache: TieredCache)`, or
// with @InjectTickCache()), TickCacheInterceptor, TickCacheHealthIndicator, and with `admin`
// the admin controller. TickCacheLifecycle warms, runs the refresher and closes the cache.
//
// Invariant: one cache per module instance; it is created once (by the TICKCACHE factory) and
// everything else (interceptor, decorators, admin, health, metrics) uses that one.

import { Module } from '@nestjs/common';
import type { DynamicModule, Provider } from '@nestjs/common';

import { TieredCache, createTieredCache } from '../index.js';
import { adminProviders, createAdminController } from './admin.js';
import { TickCacheHealthIndicator } from './health.js';
import { TickCacheInterceptor } from './interceptor.js';
import { TickCacheLifecycle } from './lifecycle.js';
import { TickCacheMetrics } from './metrics.js';
import type { TickCacheAdminOptions, TickCacheModuleAsyncOptions, TickCacheModuleOptions, TickCacheOptions } from './options.js';
import { TICKCACHE, TICKCACHE_ADMIN_OPTIONS, TICKCACHE_METRICS, TICKCACHE_MODULE_OPTIONS } from './tokens.js';

/** The options createTieredCache reads (the module's own fields removed). */
function tieredOptions(options: TickCacheOptions): Parameters<typeof createTieredCache>[0] {
  const {
    cache: _cache,
    closeOnShutdown: _close,
    warm: _warm,
    warmInBackground: _background,
    refresher: _refresher,
    metrics: _metrics,
    admin: _admin,
    ...rest
  } = options as TickCacheModuleOptions;
  delete (rest as { isGlobal?: boolean }).isGlobal;
  return rest;
}

const EXPORTS = [
  TICKCACHE,
  TieredCache,
  TICKCACHE_MODULE_OPTIONS,
  TICKCACHE_METRICS,
  TickCacheInterceptor,
  TickCacheHealthIndicator,
  TickCacheLifecycle,
];

function coreProviders(): Provider[] {
  return [
    {
      provide: TICKCACHE,
      useFactory: async (options: TickCacheOptions) => options.cache ?? createTieredCache(tieredOptions(options)),
      inject: [TICKCACHE_MODULE_OPTIONS],
    },
    { provide: TieredCache, useExisting: TICKCACHE },
    { provide: TICKCACHE_METRICS, useValue: new TickCacheMetrics() },
    TickCacheInterceptor,
    TickCacheHealthIndicator,
    TickCacheLifecycle,
  ];
}

function withAdmin(module: DynamicModule, admin: boolean | TickCacheAdminOptions | undefined): DynamicModule {
  if (admin === undefined || admin === false) return module;
  const staticAdmin = admin === true ? {} : admin;
  return {
    ...module,
    controllers: [createAdminController(staticAdmin.path)],
    providers: [
      ...(module.providers ?? []),
      ...adminProviders({
        provide: TICKCACHE_ADMIN_OPTIONS,
        // The factory's admin options (a token from config) over the static ones.
        useFactory: (options: TickCacheOptions): TickCacheAdminOptions => ({ ...staticAdmin, ...(options.admin ?? {}) }),
        inject: [TICKCACHE_MODULE_OPTIONS],
      }),
    ],
  };
}

@Module({})
export class TickCacheModule {
  static forRoot(options: TickCacheModuleOptions = {}): DynamicModule {
    return withAdmin(
      {
        module: TickCacheModule,
        global: options.isGlobal === true,
        providers: [{ provide: TICKCACHE_MODULE_OPTIONS, useValue: options }, ...coreProviders()],
        exports: EXPORTS,
      },
      options.admin,
    );
  }

  static forRootAsync(options: TickCacheModuleAsyncOptions): DynamicModule {
    return withAdmin(
      {
        module: TickCacheModule,
        global: options.isGlobal === true,
        imports: options.imports ?? [],
        providers: [
          { provide: TICKCACHE_MODULE_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
          ...coreProviders(),
        ],
        exports: EXPORTS,
      },
      options.admin,
    );
  }
}
