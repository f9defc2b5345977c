// src/http/vendor-errors.filter.ts: what a client sees when the vendor could not answer and no
// cached value (fresh or within grace) could stand in: a precise code and status, never a bare
// 500. unknown_symbol -> 404; vendor_rate_limited -> 503 with Retry-After (our client did nothing
// wrong: our vendor plan ran out); vendor_unavailable -> 502; tickcache's loader_timeout -> 504.

import { Catch, HttpStatus } from '@nestjs/common';
import type { ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { HttpResponse } from './http-types.js';

import { TickcacheError } from '../tickcache.js';
import { VendorError } from '../vendor/vendor.js';

const STATUS: Record<string, number> = {
  unknown_symbol: HttpStatus.NOT_FOUND,
  vendor_rate_limited: HttpStatus.SERVICE_UNAVAILABLE,
  vendor_unavailable: HttpStatus.BAD_GATEWAY,
  loader_timeout: HttpStatus.GATEWAY_TIMEOUT,
};

@Catch(VendorError, TickcacheError)
export class VendorErrorsFilter extends BaseExceptionFilter {
  override catch(error: VendorError | TickcacheError, host: ArgumentsHost): void {
    const status = STATUS[error.code];
    if (status === undefined || host.getType() !== 'http') {
      super.catch(error, host); // not a vendor answer: Nest's own handling (a 500)
      return;
    }
    const response = host.switchToHttp().getResponse<HttpResponse>();
    if (error instanceof VendorError && error.retryAfterMs !== undefined) {
      response.setHeader('Retry-After', String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))));
    }
    response.setHeader('Cache-Control', 'no-store');
    response.status(status).json({ statusCode: status, code: error.code, message: error.message });
  }
}
