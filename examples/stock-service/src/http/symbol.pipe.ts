// src/http/symbol.pipe.ts: a symbol path parameter, normalized and checked before anything is
// looked up: "aapl" and "AAPL" are one request (one cache key), and text that cannot be a
// symbol is refused with 400 (code invalid_symbol) without a cache lookup or a vendor call.

import { BadRequestException, Injectable } from '@nestjs/common';
import type { PipeTransform } from '@nestjs/common';

import { SYMBOL_PATTERN } from '../config.js';

@Injectable()
export class SymbolPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
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
}
