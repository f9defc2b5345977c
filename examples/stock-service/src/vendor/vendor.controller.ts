// src/vendor/vendor.controller.ts: the simulated vendor's counter (GET /vendor/stats, public:
// it is what a demo watches to see the cache save calls) and its knobs (admin only: latency,
// rate limit and failure rate at run time; resetting the counter between benchmark phases).

import { Body, Controller, Get, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { BadRequestException } from '@nestjs/common';

import { TickCacheAdminGuard } from '../tickcache-nest.js';
import { SimulatedVendor } from './vendor.js';
import type { VendorSettings, VendorStats } from './vendor.js';

const KNOBS = ['latencyMs', 'rateLimitPerSecond', 'failureRate', 'tickMs'];

@Controller('vendor')
export class VendorController {
  constructor(@Inject(SimulatedVendor) private readonly vendor: SimulatedVendor) {}

  @Get('stats')
  stats(): VendorStats {
    return this.vendor.stats();
  }

  @Post('stats/reset')
  @HttpCode(204)
  @UseGuards(TickCacheAdminGuard)
  reset(): void {
    this.vendor.resetStats();
  }

  @Post('settings')
  @HttpCode(200)
  @UseGuards(TickCacheAdminGuard)
  configure(@Body() body: unknown): VendorSettings {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new BadRequestException({ statusCode: 400, code: 'invalid_argument', message: `send a JSON object of ${KNOBS.join(', ')}` });
    }
    const unknown = Object.keys(body).find((field) => !KNOBS.includes(field));
    if (unknown !== undefined) {
      throw new BadRequestException({ statusCode: 400, code: 'invalid_argument', message: `${JSON.stringify(unknown)} is not a vendor setting (${KNOBS.join(', ')})` });
    }
    try {
      return this.vendor.configure(body as Partial<VendorSettings>);
    } catch (error) {
      throw new BadRequestException({ statusCode: 400, code: 'invalid_argument', message: (error as Error).message });
    }
  }
}
