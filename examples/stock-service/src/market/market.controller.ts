// src/market/market.controller.ts: the service's public endpoints (USER-NEEDS.md): latest
// price, 30-day history, fundamentals, symbol list. Cache-first through tickcache's
// TickCacheInterceptor: concurrent misses of one key make one vendor call, and every answer
// carries ETag, Cache-Control (max-age: the fresh time left) and X-Cache (HIT, STALE, MISS);
// If-None-Match with the current ETag is answered 304.
//
// The keys are the documented patterns (keys.ts), built from the normalized symbol; the TTLs
// and tags are not here: the policy (config.ts) matches the keys (prices by market hours).

import { Controller, Get, Inject, Param, UseInterceptors } from '@nestjs/common';

import { SymbolPipe, symbolParam } from '../http/symbol.pipe.js';
import { CacheRoute, TickCacheInterceptor } from '../tickcache-nest.js';
import { cacheKeys } from './keys.js';
import { MarketService } from './market.service.js';

@Controller()
@UseInterceptors(TickCacheInterceptor)
export class MarketController {
  constructor(@Inject(MarketService) private readonly market: MarketService) {}

  @Get('symbols')
  @CacheRoute({ key: cacheKeys.symbols(), visibility: 'public' })
  symbols() {
    return this.market.symbols();
  }

  @Get('stocks/:symbol/price')
  @CacheRoute({ key: (request) => cacheKeys.price(symbolParam(request)), visibility: 'public' })
  price(@Param('symbol', SymbolPipe) symbol: string) {
    return this.market.latestPrice(symbol);
  }

  @Get('stocks/:symbol/history')
  @CacheRoute({ key: (request) => cacheKeys.history(symbolParam(request)), visibility: 'public' })
  history(@Param('symbol', SymbolPipe) symbol: string) {
    return this.market.history(symbol);
  }

  @Get('stocks/:symbol/fundamentals')
  @CacheRoute({ key: (request) => cacheKeys.fundamentals(symbolParam(request)), visibility: 'public' })
  fundamentals(@Param('symbol', SymbolPipe) symbol: string) {
    return this.market.fundamentals(symbol);
  }
}
