// js/src/nest/options.ts: what TickCacheModule and the admin controller are configured with.
//
// The module options are createTieredCache's options (l1, redis, events, defaults, ...) plus
// what the Nest lifecycle does with the cache: warming, the refresher, prom-client metrics and
// the opt-in admin controller.

import type { CanActivate, ModuleMetadata, Type } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';

import type { CreateTieredOptions } from '../tiered/create.js';
import type { RefresherOptions } from '../tiered/refresher.js';
import type { GetOrSetOptions, Loader, TieredCache } from '../tiered/tiered-cache.js';

/** One batch of keys loaded at start-up (keys already cached, in L1 or L2, are not reloaded). */
export interface WarmSpec<V = unknown> extends GetOrSetOptions {
  /** The keys, or a function giving them (top symbols, users' watchlists). */
  keys: readonly string[] | (() => readonly string[] | Promise<readonly string[]>);
  loader: Loader<V>;
  /** Loads at once. Default 8. */
  concurrency?: number;
}

/** Warming as code: runs with the cache and the module's ModuleRef (to reach services). */
export type WarmCallback = (cache: TieredCache, moduleRef: ModuleRef) => Promise<unknown> | unknown;

export interface WarmResult {
  loaded: number;
  cached: number;
  failed: number;
  durationMs: number;
}

export interface TickCacheMetricsOptions {
  /** A prom-client Registry; default prom-client's global `register`. */
  registry?: unknown;
  /** Prefix of every metric name. Default 'tickcache_'. */
  prefix?: string;
  /** Labels added to every sample (e.g. { cache: 'prices' }). */
  labels?: Record<string, string>;
  /** How prom-client is loaded (tests, bundlers). Default: import('prom-client'). */
  load?: () => Promise<unknown>;
}

export interface TickCacheAlertThresholds {
  /** Alert below this hit rate. Default: the cache's minHitRate (0.8). */
  minHitRate?: number;
  /** Alert when L1 holds more than this fraction of its byte (or entry) bound. Default 0.8. */
  maxMemoryRatio?: number;
  /** Alert when L2's p99 latency is above this (ms). Default 10. */
  maxL2P99Ms?: number;
  /** Alert when the loader's p99 latency is above this (ms). Default: no alert. */
  maxLoaderP99Ms?: number;
}

export interface TickCacheAdminOptions {
  /**
   * The route prefix of the admin endpoints. Default 'cache' (GET /cache/stats, ...). Fixed when
   * the module is defined (forRootAsync's factory cannot change it).
   */
  path?: string;
  /**
   * Bearer tokens accepted in `Authorization: Bearer <token>`. With neither a token nor a guard
   * every admin request is refused (403): no credentials, no access.
   */
  token?: string | readonly string[];
  /** Your own guard instead of the token check (a class is instantiated by Nest, with DI). */
  guard?: Type<CanActivate> | CanActivate;
  /** Thresholds of the report's alerts. */
  alerts?: TickCacheAlertThresholds;
  /** How many keys the report lists under topKeys. Default 20. */
  topKeys?: number;
}

export interface TickCacheOptions extends Omit<CreateTieredOptions, 'createL1'> {
  /** Use this cache instead of creating one from the options above. */
  cache?: TieredCache;
  /** Close the cache on application shutdown. Default: true for a cache this module created, false for `cache`. */
  closeOnShutdown?: boolean;
  /**
   * Loaded when the application boots (after every module's onModuleInit, so loaders may use
   * services that initialize themselves there), before it listens.
   */
  warm?: readonly WarmSpec[] | WarmCallback;
  /** Warm without holding up start-up (awaited on shutdown). Default false. */
  warmInBackground?: boolean;
  /**
   * The refresher (TieredCache.startRefresher): reloads hot keys before they expire. Started when
   * the application boots, stopped when it shuts down. `true`: its defaults (every 5 minutes).
   */
  refresher?: boolean | RefresherOptions;
  /** Export stats() through prom-client, when it is installed (else a warning, no metrics). */
  metrics?: boolean | TickCacheMetricsOptions;
  /**
   * Admin options when the admin controller is on (forRoot's `admin`, or TickCacheAdminModule).
   * In forRootAsync, the factory may return them (token from a config service); the controller
   * itself is switched on by the static `admin` field.
   */
  admin?: TickCacheAdminOptions;
}

export interface TickCacheModuleOptions extends TickCacheOptions {
  /** Register the module globally (no need to import it in every module). Default false. */
  isGlobal?: boolean;
}

export interface TickCacheModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  isGlobal?: boolean;
  useFactory: (...args: any[]) => TickCacheOptions | Promise<TickCacheOptions>;
  inject?: any[];
  /**
   * Mounts the admin controller (true, or options merged under what the factory returns).
   * Static because Nest reads controllers before any factory runs.
   */
  admin?: boolean | TickCacheAdminOptions;
}
