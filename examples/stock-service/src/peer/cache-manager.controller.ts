// src/peer/cache-manager.controller.ts: the benchmark's peer: the same endpoints as
// market.controller.ts on @nestjs/cache-manager, written the way its documentation shows
// (CacheInterceptor, @CacheKey, @CacheTTL; cache-manager 7 over Keyv: memory in front of
// @keyv/redis). Mounted only with CACHE_MODE=cache-manager.
//
// Differences that are the peer's, not this file's: no coalescing (concurrent misses each call
// the vendor), no market hours (prices cached 5 min at any hour), no ETag/304, no stale serving.

import { Controller, Get, Inject, Param, UseInterceptors } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import { CacheInterceptor, CacheKey, CacheTTL } from '@nestjs/cache-manager';

import { FUNDAMENTALS_TTL_MS, HISTORY_TTL_MS, OPEN_MARKET_PRICE_TTL_MS, SYMBOLS_TTL_MS } from '../config.js';
import { SymbolPipe, symbolParam } from '../http/symbol.pipe.js';
import { cacheKeys } from '../market/keys.js';
import { MarketService } from '../market/market.service.js';

const symbolOf = (context: ExecutionContext): string => symbolParam(context.switchToHttp().getRequest());

@Controller()
@UseInterceptors(CacheInterceptor)
export class CacheManagerMarketController {
  constructor(@Inject(MarketService) private readonly market: MarketService) {}

  @Get('symbols')
  @CacheKey(cacheKeys.symbols())
  @CacheTTL(SYMBOLS_TTL_MS)
  symbols() {
    return this.market.symbols();
  }

  @Get('stocks/:symbol/price')
  @CacheKey((context: ExecutionContext) => cacheKeys.price(symbolOf(context)))
  @CacheTTL(OPEN_MARKET_PRICE_TTL_MS)
  price(@Param('symbol', SymbolPipe) symbol: string) {
    return this.market.latestPrice(symbol);
  }

  @Get('stocks/:symbol/history')
  @CacheKey((context: ExecutionContext) => cacheKeys.history(symbolOf(context)))
  @CacheTTL(HISTORY_TTL_MS)
  history(@Param('symbol', SymbolPipe) symbol: string) {
    return this.market.history(symbol);
  }

  @Get('stocks/:symbol/fundamentals')
  @CacheKey((context: ExecutionContext) => cacheKeys.fundamentals(symbolOf(context)))
  @CacheTTL(FUNDAMENTALS_TTL_MS)
  fundamentals(@Param('symbol', SymbolPipe) symbol: string) {
    return this.market.fundamentals(symbol);
  }
}
