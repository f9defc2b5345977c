// js/src/nest/lifecycle.ts: what TickCacheModule does with its cache as the application starts
// and stops: metrics registered and the refresher started, then the warm-up (all when the
// application boots, after every module's onModuleInit, so warm loaders can use services that
// initialize themselves there); on shutdown the refresher stopped, a background warm-up
// awaited, metrics removed, and the cache closed (its Redis connections with it).
//
// Invariants: after app.close() nothing this module started is left running (no timer, no
// connection of a cache it owns), so a process, or Jest's --detectOpenHandles, can end; a
// warm-up failure never fails start-up (failed keys are counted and logged); a cache given by
// the caller (options.cache) is left open unless closeOnShutdown.

import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';

import type { TieredCache } from '../tiered/tiered-cache.js';
import { TickCacheMetrics } from './metrics.js';
import type { TickCacheOptions, WarmResult } from './options.js';
import { TICKCACHE, TICKCACHE_METRICS, TICKCACHE_MODULE_OPTIONS } from './tokens.js';
import { messageOf } from './util.js';

@Injectable()
export class TickCacheLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('TickCache');
  /** The last warm-up's counts (undefined before one ran or with warm as a callback). */
  warmResult: WarmResult | undefined;
  /** Settles when the warm-up is over (at once when there is none). */
  warming: Promise<void> = Promise.resolve();
  private startedRefresher = false;

  constructor(
    @Inject(TICKCACHE) private readonly cache: TieredCache,
    @Inject(TICKCACHE_MODULE_OPTIONS) private readonly options: TickCacheOptions,
    @Inject(TICKCACHE_METRICS) private readonly metrics: TickCacheMetrics,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { metrics, refresher, warm } = this.options;
    if (metrics !== undefined && metrics !== false) {
      await this.metrics.start(this.cache, metrics === true ? {} : metrics);
    }
    if (refresher !== undefined && refresher !== false && this.cache.refresher === undefined) {
      // Started before the warm-up, so warmed keys are known to it (it reloads hot keys).
      this.cache.startRefresher(refresher === true ? {} : refresher);
      this.startedRefresher = true;
    }
    if (warm === undefined) return;
    this.warming = this.warm(warm);
    if (this.options.warmInBackground !== true) await this.warming;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.warming;
    if (this.startedRefresher) {
      this.startedRefresher = false;
      await this.cache.stopRefresher();
    }
    this.metrics.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    const owned = this.options.cache === undefined;
    if (this.options.closeOnShutdown ?? owned) await this.cache.close();
  }

  private async warm(warm: NonNullable<TickCacheOptions['warm']>): Promise<void> {
    const started = performance.now();
    try {
      if (typeof warm === 'function') {
        await warm(this.cache, this.moduleRef);
        this.logger.log(`warm-up callback done in ${(performance.now() - started).toFixed(0)} ms`);
        return;
      }
      const total = { loaded: 0, cached: 0, failed: 0 };
      for (const spec of warm) {
        const { keys, loader, ...options } = spec;
        let list: readonly string[];
        try {
          list = typeof keys === 'function' ? await keys() : keys;
        } catch (error) {
          this.logger.warn(`warm-up: the keys function failed: ${messageOf(error)}`);
          total.failed++;
          continue;
        }
        const result = await this.cache.warm(list, loader, options);
        total.loaded += result.loaded;
        total.cached += result.cached;
        total.failed += result.failed;
      }
      this.warmResult = { ...total, durationMs: performance.now() - started };
      this.logger.log(
        `warmed ${total.loaded + total.cached + total.failed} keys in ${this.warmResult.durationMs.toFixed(0)} ms: ` +
          `${total.loaded} loaded, ${total.cached} already cached, ${total.failed} failed`,
      );
    } catch (error) {
      this.logger.warn(`warm-up failed: ${messageOf(error)}`);
    }
  }
}
