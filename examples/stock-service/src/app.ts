// src/app.ts: builds the stock service as a Nest application (not yet listening): what main.ts
// starts and what the end-to-end tests and the benchmark drive.
//
// Invariants: app.close() ends everything the app started (Nest's shutdown hooks run
// TickCacheModule's: warming awaited, the refresher stopped, Redis connections closed);
// CACHE_MODE=off is tickcache's global switch turned off before the app boots (no warming, every
// request reaches the vendor), the same switch POST /cache/enabled flips at run time.

import 'reflect-metadata';

import { NestFactory } from '@nestjs/core';
import type { INestApplication, LogLevel } from '@nestjs/common';

import { StockServiceModule } from './app.module.js';
import { defaultSettings } from './config.js';
import type { StockServiceSettings } from './config.js';
import type { TieredCache } from './tickcache.js';
import { TICKCACHE } from './tickcache-nest.js';

export async function createStockApp(overrides: Partial<StockServiceSettings> = {}): Promise<INestApplication> {
  const settings: StockServiceSettings = { ...defaultSettings(), ...overrides };
  const logger: false | LogLevel[] = settings.logs ? ['log', 'warn', 'error', 'fatal'] : false;
  const app = await NestFactory.create(StockServiceModule.forRoot(settings), { logger, abortOnError: false });
  if (settings.cacheMode === 'off') app.get<TieredCache>(TICKCACHE, { strict: false }).setEnabled(false);
  app.enableShutdownHooks();
  return app;
}
