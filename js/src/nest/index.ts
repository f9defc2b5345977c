// js/src/nest/index.ts: the NestJS integration of tickcache ('tickcache/nest'). Everything that
// imports @nestjs/* lives under js/src/nest, so the core entry ('tickcache') never loads Nest.
// prom-client is loaded only when metrics are asked for; @nestjs/terminus is not imported at all
// (TickCacheHealthIndicator returns the result shape terminus reads).

export { TickCacheModule } from './tickcache.module.js';
export { TickCacheLifecycle } from './lifecycle.js';
export {
  InjectTickCache,
  TICKCACHE,
  TICKCACHE_ADMIN_GUARD,
  TICKCACHE_ADMIN_OPTIONS,
  TICKCACHE_METRICS,
  TICKCACHE_MODULE_OPTIONS,
} from './tokens.js';
export type {
  TickCacheAdminOptions,
  TickCacheAlertThresholds,
  TickCacheMetricsOptions,
  TickCacheModuleAsyncOptions,
  TickCacheModuleOptions,
  TickCacheOptions,
  WarmCallback,
  WarmResult,
  WarmSpec,
} from './options.js';
export { Cacheable, CacheEvict } from './decorators.js';
export type { CacheableOptions, CacheEvictOptions } from './decorators.js';
export { CacheRoute, NoCache, TickCacheInterceptor, CACHE_ROUTE_METADATA, etagOf, ifNoneMatchHits } from './interceptor.js';
export type { CacheRouteOptions } from './interceptor.js';
export { TickcacheKeyvStore, tickcacheKeyvStore } from './keyv-store.js';
export type { TickcacheKeyvSource, TickcacheKeyvStoreOptions } from './keyv-store.js';
export { TickCacheAdminGuard, TickCacheAdminModule, createAdminController } from './admin.js';
export type { TickCacheAdminModuleAsyncOptions } from './admin.js';
export { TickCacheHealthIndicator } from './health.js';
export type { HealthCheckName, TickCacheHealthOptions, TickCacheHealthResult } from './health.js';
export { TickCacheMetrics } from './metrics.js';
export { buildReport, renderReportText } from './report.js';
export type { Alert, CacheReport, L1Memory } from './report.js';
export { KeyUsage, keyUsageOf } from './key-usage.js';
export type { KeyUsageEntry, ReadOutcome } from './key-usage.js';
export { compileArgsTemplate, compileRequestTemplate, requestUrlKey, stableStringify } from './key-template.js';
export type { ArgsTemplate, RequestLike, RequestTemplate } from './key-template.js';
