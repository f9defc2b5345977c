// src/tickcache-nest.ts: the one place this service imports tickcache's NestJS integration from
// (the package's 'tickcache/nest' entry: TickCacheModule, TickCacheInterceptor, @CacheRoute, the
// admin guard, the health indicator). Reached by relative path for the reason src/tickcache.ts
// gives; a service of yours writes `from 'tickcache/nest'`.

export * from '../../../dist/esm/nest/index.js';
