// js/src/nest/tokens.ts: the injection tokens of the NestJS integration and @InjectTickCache().
//
// Invariant: tokens are strings, not symbols or classes, so two copies of this file (an ESM and
// a CommonJS build loaded side by side) still name the same providers.

import { Inject } from '@nestjs/common';

/** The TieredCache of a TickCacheModule (also injectable by its class, TieredCache). */
export const TICKCACHE = 'tickcache:TieredCache';
/** The options given to TickCacheModule.forRoot / returned by forRootAsync's factory. */
export const TICKCACHE_MODULE_OPTIONS = 'tickcache:ModuleOptions';
/** The admin controller's options (guard, token, alert thresholds). */
export const TICKCACHE_ADMIN_OPTIONS = 'tickcache:AdminOptions';
/** A user-supplied guard for the admin controller (admin.guard). */
export const TICKCACHE_ADMIN_GUARD = 'tickcache:AdminGuard';
/** The prom-client collector (TickCacheMetrics). */
export const TICKCACHE_METRICS = 'tickcache:Metrics';

/** Parameter/property decorator: injects the module's TieredCache. */
export function InjectTickCache(): PropertyDecorator & ParameterDecorator {
  return Inject(TICKCACHE);
}
