// src/app.ts: builds the stock service as a Nest application (not yet listening): what main.ts
// starts and what the end-to-end tests and the benchmark drive.
//
// Invariants: app.close() ends everything the app started (Nest's shutdown hooks run the
// cache's close: Redis connections, the refresher, warming still in progress).

import 'reflect-metadata';

import { NestFactory } from '@nestjs/core';
import type { INestApplication, LogLevel } from '@nestjs/common';

import { StockServiceModule } from './app.module.js';
import { defaultSettings } from './config.js';
import type { StockServiceSettings } from './config.js';

export async function createStockApp(overrides: Partial<StockServiceSettings> = {}): Promise<INestApplication> {
  const settings: StockServiceSettings = { ...defaultSettings(), ...overrides };
  const logger: false | LogLevel[] = settings.logs ? ['log', 'warn', 'error', 'fatal'] : false;
  const app = await NestFactory.create(StockServiceModule.forRoot(settings), { logger, abortOnError: false });
  app.enableShutdownHooks();
  return app;
}
