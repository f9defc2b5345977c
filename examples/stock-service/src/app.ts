// src/app.ts: builds the stock service as a Nest application (not yet listening): what main.ts
// starts and what the end-to-end tests and the benchmark drive.
//
// Invariants: app.close() ends everything the app started (Nest's shutdown hooks run
// TickCacheModule's: warming awaited, the refresher stopped, Redis connections closed);
// CACHE_MODE=off is tickcache's global switch turned off before the app boots (no warming, every
// request reaches the vendor), the same switch POST /cache/enabled flips at run time.

import 'reflect-metadata';

import { Logger } from '@nestjs/common';
import type { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

import { StockServiceModule } from './app.module.js';
import { defaultSettings } from './config.js';
import type { RequestLogEntry, StockServiceSettings } from './config.js';
import type { TieredCache } from './tickcache.js';
import { TICKCACHE } from './tickcache-nest.js';

export async function createStockApp(overrides: Partial<StockServiceSettings> = {}): Promise<INestApplication> {
  const settings: StockServiceSettings = { ...defaultSettings(), ...overrides };
  const logger: false | LogLevel[] = settings.logs ? ['log', 'warn', 'error', 'fatal'] : false;
  const app = await NestFactory.create(StockServiceModule.forRoot(settings), { logger, abortOnError: false });
  if (settings.cacheMode === 'off') app.get<TieredCache>(TICKCACHE, { strict: false }).setEnabled(false);
  const { requestLog } = settings;
  if (requestLog !== undefined && requestLog !== false) {
    const logger = new Logger('HTTP');
    const write = typeof requestLog === 'function' ? requestLog : (entry: RequestLogEntry) => logger.log(JSON.stringify(entry));
    app.use(requestLogger(write));
  }
  app.enableShutdownHooks();
  return app;
}

interface RawRequest {
  method: string;
  originalUrl?: string;
  url: string;
}
interface RawResponse {
  statusCode: number;
  getHeader(name: string): unknown;
  once(event: 'finish', listener: () => void): void;
}

/** Structured HIT/MISS logging: one entry per finished response, with its X-Cache verdict. */
function requestLogger(write: (entry: RequestLogEntry) => void) {
  return (request: RawRequest, response: RawResponse, next: () => void): void => {
    const started = performance.now();
    response.once('finish', () => {
      const cache = response.getHeader('x-cache');
      write({
        event: 'request',
        method: request.method,
        path: request.originalUrl ?? request.url,
        status: response.statusCode,
        cache: typeof cache === 'string' ? cache : null,
        ms: Math.round((performance.now() - started) * 100) / 100,
      });
    });
    next();
  };
}
