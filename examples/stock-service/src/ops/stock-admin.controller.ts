// src/ops/stock-admin.controller.ts: the one admin endpoint of USER-NEEDS.md that is this
// service's and not tickcache's: POST /cache/clear/{symbol} drops every cached key of one
// symbol ("*:AAPL": price, history, fundamentals), in L1, L2 and every other instance's L1.
// Behind the same guard and token as tickcache's admin controller (GET /cache/stats, ...).

import { Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';

import { SymbolPipe } from '../http/symbol.pipe.js';
import { symbolPattern } from '../market/keys.js';
import type { TieredCache } from '../tickcache.js';
import { InjectTickCache, NoCache, TickCacheAdminGuard } from '../tickcache-nest.js';

@Controller('cache')
@UseGuards(TickCacheAdminGuard)
@NoCache()
export class StockAdminController {
  constructor(@InjectTickCache() private readonly cache: TieredCache) {}

  @Post('clear/:symbol')
  @HttpCode(200)
  async clearSymbol(@Param('symbol', SymbolPipe) symbol: string): Promise<{ symbol: string; pattern: string; removed: number }> {
    const pattern = symbolPattern(symbol);
    return { symbol, pattern, removed: await this.cache.invalidatePattern(pattern) };
  }
}
