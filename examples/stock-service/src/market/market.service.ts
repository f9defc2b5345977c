// src/market/market.service.ts: the service's data, straight from the vendor. Caching is the
// HTTP layer's (market.controller.ts: TickCacheInterceptor, or @nestjs/cache-manager's
// interceptor for the benchmark's peer): this class knows nothing of it, so a reader sees what
// a cache saves by comparing vendor calls with requests.
//
// Invariants: each method depends only on its arguments (the refresher may call the same load
// again minutes later); warming loads exactly what the routes would (the same keys, the same
// values), so a warmed key is a HIT for the route's first request.

import { Inject, Injectable } from '@nestjs/common';

import type { TieredCache } from '../tickcache.js';
import type { Fundamentals, PriceHistory, Quote, SymbolInfo } from '../vendor/market-data.js';
import { SimulatedVendor, VendorError } from '../vendor/vendor.js';
import { cacheKeys } from './keys.js';

export interface SymbolList {
  count: number;
  symbols: SymbolInfo[];
}

export const HISTORY_DAYS = 30;

export interface WarmReport {
  keys: number;
  /** Loaded from the vendor. */
  loaded: number;
  /** Already cached (L1, L1's file store after a restart, or L2 filled by another instance). */
  cached: number;
  failed: number;
  durationMs: number;
}

/** Vendor calls at once while warming: well under the vendor's per-second limit. */
const WARM_CONCURRENCY = 4;
const RATE_LIMIT_ATTEMPTS = 5;

@Injectable()
export class MarketService {
  constructor(@Inject(SimulatedVendor) private readonly vendor: SimulatedVendor) {}

  latestPrice(symbol: string): Promise<Quote> {
    return this.vendor.quote(symbol);
  }

  history(symbol: string): Promise<PriceHistory> {
    return this.vendor.history(symbol, HISTORY_DAYS);
  }

  fundamentals(symbol: string): Promise<Fundamentals> {
    return this.vendor.fundamentals(symbol);
  }

  async symbols(): Promise<SymbolList> {
    const symbols = await this.vendor.symbols();
    return { count: symbols.length, symbols };
  }

  /**
   * Loads the symbol list and the price, history and fundamentals of `symbols` into `cache`
   * under the routes' keys (what the first users of the day ask for). A key that fails is
   * counted, not thrown: start-up goes on. The vendor's per-second limit is a wait here, not a
   * failure: warming paces itself by it.
   */
  async warm(cache: TieredCache, symbols: readonly string[]): Promise<WarmReport> {
    const started = performance.now();
    const loads = new Map<string, () => Promise<unknown>>([[cacheKeys.symbols(), () => this.symbols()]]);
    for (const symbol of symbols) {
      loads.set(cacheKeys.price(symbol), () => this.latestPrice(symbol));
      loads.set(cacheKeys.history(symbol), () => this.history(symbol));
      loads.set(cacheKeys.fundamentals(symbol), () => this.fundamentals(symbol));
    }
    const result = await cache.warm([...loads.keys()], (key) => waitOutRateLimit(loads.get(key)!), { concurrency: WARM_CONCURRENCY });
    return { keys: loads.size, ...result, durationMs: performance.now() - started };
  }
}

async function waitOutRateLimit<T>(load: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await load();
    } catch (error) {
      const wait = error instanceof VendorError && error.code === 'vendor_rate_limited' ? error.retryAfterMs : undefined;
      if (wait === undefined || attempt >= RATE_LIMIT_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
