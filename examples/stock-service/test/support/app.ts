// test/support/app.ts: the stock service as the end-to-end tests drive it: the real Nest app
// over HTTP (supertest), with a fast vendor (5-20 ms instead of 500-2000 ms, no rate limit, no
// random failures unless a test asks) and no warming unless a test asks, so every vendor call a
// test counts is one its own requests caused.

import type { INestApplication } from '@nestjs/common';
import request from 'supertest';

import { createStockApp } from '../../src/app.js';
import type { StockServiceSettings } from '../../src/config.js';
import type { TieredCache } from '../../src/tickcache.js';
import { TICKCACHE, TickCacheLifecycle } from '../../src/tickcache-nest.js';
import { SimulatedVendor } from '../../src/vendor/vendor.js';
import type { VendorStats } from '../../src/vendor/vendor.js';

export const ADMIN_TOKEN = 'test-admin-token';

export interface RunningApp {
  app: INestApplication;
  http: ReturnType<typeof request>;
  vendor: SimulatedVendor;
  /** The app's TieredCache (undefined with CACHE_MODE=cache-manager). */
  cache: TieredCache | undefined;
  /** Vendor calls made so far. */
  calls(): number;
  stats(): VendorStats;
  close(): Promise<void>;
}

export async function startApp(overrides: Partial<StockServiceSettings> = {}): Promise<RunningApp> {
  const app = await createStockApp({
    logs: false,
    adminToken: ADMIN_TOKEN,
    warmSymbols: [],
    ...overrides,
    vendor: { latencyMs: { min: 5, max: 20 }, rateLimitPerSecond: 0, failureRate: 0, seed: 7, ...overrides.vendor },
  });
  await app.init();
  const tickcache = overrides.cacheMode !== 'cache-manager';
  // Start-up warming (the symbol list at least) is over before a test counts vendor calls.
  if (tickcache) await app.get(TickCacheLifecycle, { strict: false }).warming;
  const vendor = app.get(SimulatedVendor);
  return {
    app,
    http: request(app.getHttpServer()),
    vendor,
    cache: tickcache ? app.get<TieredCache>(TICKCACHE, { strict: false }) : undefined,
    calls: () => vendor.stats().calls,
    stats: () => vendor.stats(),
    close: () => app.close(),
  };
}

/** A clock a test moves by hand (TTLs, market hours); starts at `iso`. */
export function manualClock(iso: string): { now: () => number; advance(ms: number): void; set(iso: string): void } {
  let now = Date.parse(iso);
  if (Number.isNaN(now)) throw new Error(`not a date: ${iso}`);
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
    set: (next) => {
      now = Date.parse(next);
    },
  };
}

/** Tuesday 2025-11-18 15:00 in New York: the NYSE is open. */
export const MARKET_OPEN = '2025-11-18T15:00:00-05:00';
/** Saturday 2025-11-22 12:00 in New York: closed until Monday 09:30. */
export const MARKET_CLOSED = '2025-11-22T12:00:00-05:00';
