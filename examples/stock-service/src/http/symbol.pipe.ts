// src/http/symbol.pipe.ts: a symbol from a path parameter, normalized and checked before
// anything is looked up: "aapl" and "AAPL" are one request (one cache key), and text that cannot
// be a symbol is refused with 400 (code invalid_symbol) without a cache lookup or a vendor call.
// Used twice per request on purpose: by the route keys (market.controller.ts: the interceptor
// runs before pipes) and by the handler's parameter; both give the same answer.

import { BadRequestException, Injectable } from '@nestjs/common';
import type { PipeTransform } from '@nestjs/common';

import { SYMBOL_PATTERN } from '../config.js';

export function normalizeSymbol(value: unknown): string {
  const symbol = typeof value === 'string' ? value.trim().toUpperCase() : '';
  if (!SYMBOL_PATTERN.test(symbol)) {
    throw new BadRequestException({
      statusCode: 400,
      code: 'invalid_symbol',
      message: `${JSON.stringify(value)} is not a symbol (1-10 of A-Z, 0-9 and ".", starting with a letter)`,
    });
  }
  return symbol;
}

/** The request's :symbol, normalized (for key functions, which see the raw request). */
export function symbolParam(request: { params?: Record<string, unknown> }): string {
  return normalizeSymbol(request.params?.['symbol']);
}

@Injectable()
export class SymbolPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    return normalizeSymbol(value);
  }
}
