// src/market/market.controller.ts: the service's public endpoints (USER-NEEDS.md): latest
// price, 30-day history, fundamentals, symbol list. Cache-first: each answers from the cache
// when it can, with ETag, Cache-Control and X-Cache (CacheHeadersInterceptor).

import { Controller, Get, Inject, Param, UseInterceptors } from '@nestjs/common';

import { CacheHeadersInterceptor } from '../http/cache-headers.interceptor.js';
import { SymbolPipe } from '../http/symbol.pipe.js';
import { MarketService } from './market.service.js';

@Controller()
@UseInterceptors(CacheHeadersInterceptor)
export class MarketController {
  constructor(@Inject(MarketService) private readonly market: MarketService) {}

  @Get('symbols')
  symbols() {
    return this.market.symbols();
  }

  @Get('stocks/:symbol/price')
  price(@Param('symbol', SymbolPipe) symbol: string) {
    return this.market.latestPrice(symbol);
  }

  @Get('stocks/:symbol/history')
  history(@Param('symbol', SymbolPipe) symbol: string) {
    return this.market.history(symbol);
  }

  @Get('stocks/:symbol/fundamentals')
  fundamentals(@Param('symbol', SymbolPipe) symbol: string) {
    return this.market.fundamentals(symbol);
  }
}
