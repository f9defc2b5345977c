// src/market/market.service.ts: the service's data: each read names its cache key (keys.ts) and
// how to load it from the vendor; the cache (market-cache.ts) decides between L1, L2 and the
// vendor, and says which it was.
//
// Invariants: every vendor call goes through the cache seam (so CACHE_MODE=off is the only way
// to reach the vendor on every request); loaders depend only on their key's parameters, so the
// refresher can call one again minutes later.

import { Inject, Injectable } from '@nestjs/common';

import { MARKET_CACHE } from '../cache/market-cache.js';
import type { CachedAnswer, MarketCache } from '../cache/market-cache.js';
import { SimulatedVendor, VendorError } from '../vendor/vendor.js';
import type { Fundamentals, PriceHistory, Quote, SymbolInfo } from '../vendor/market-data.js';
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
  /** Already cached (L1, or L2 filled by another instance or an earlier run). */
  cached: number;
  failed: number;
  durationMs: number;
}

/** Vendor calls at once while warming: well under the vendor's per-second limit. */
const WARM_CONCURRENCY = 4;
const WARM_ATTEMPTS = 5;

@Injectable()
export class MarketService {
  constructor(
    @Inject(MARKET_CACHE) private readonly cache: MarketCache,
    @Inject(SimulatedVendor) private readonly vendor: SimulatedVendor,
  ) {}

  latestPrice(symbol: string): Promise<CachedAnswer<Quote>> {
    return this.cache.fetch(cacheKeys.price(symbol), () => this.vendor.quote(symbol));
  }

  history(symbol: string): Promise<CachedAnswer<PriceHistory>> {
    return this.cache.fetch(cacheKeys.history(symbol), () => this.vendor.history(symbol, HISTORY_DAYS));
  }

  fundamentals(symbol: string): Promise<CachedAnswer<Fundamentals>> {
    return this.cache.fetch(cacheKeys.fundamentals(symbol), () => this.vendor.fundamentals(symbol));
  }

  /**
   * Loads the symbol list and the price, history and fundamentals of `symbols` (what the first
   * users of the day will ask for). A failure is counted, not thrown: start-up goes on.
   */
  async warm(symbols: readonly string[]): Promise<WarmReport> {
    const started = performance.now();
    const jobs: Array<() => Promise<CachedAnswer<unknown>>> = [() => this.symbols()];
    for (const symbol of symbols) {
      jobs.push(() => this.latestPrice(symbol), () => this.history(symbol), () => this.fundamentals(symbol));
    }
    const report: WarmReport = { keys: jobs.length, loaded: 0, cached: 0, failed: 0, durationMs: 0 };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        for (let attempt = 1; ; attempt++) {
          try {
            const answer = await job();
            if (answer.status === 'MISS') report.loaded++;
            else report.cached++;
            break;
          } catch (error) {
            // The vendor's per-second limit is a wait, not a failure: warming paces itself by it.
            const retryAfterMs = error instanceof VendorError && error.code === 'vendor_rate_limited' ? error.retryAfterMs : undefined;
            if (retryAfterMs === undefined || attempt >= WARM_ATTEMPTS) {
              report.failed++;
              break;
            }
            await new Promise((resolve) => setTimeout(resolve, retryAfterMs));
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(WARM_CONCURRENCY, jobs.length) }, worker));
    report.durationMs = performance.now() - started;
    return report;
  }

  symbols(): Promise<CachedAnswer<SymbolList>> {
    return this.cache.fetch(cacheKeys.symbols(), async () => {
      const symbols = await this.vendor.symbols();
      return { count: symbols.length, symbols };
    });
  }
}
