// src/main.ts: starts the stock service from the environment (config.ts) and prints where to
// look. `bash run.sh` builds and runs this.
//
// With no configuration: L1 in process memory backed by log files under
// examples/stock-service/var/l1-cache (so a restart starts warm), the simulated vendor at its
// real pace (500-2000 ms, 20 calls/s, 2 % failures), port 3000 on localhost.

import { fileURLToPath } from 'node:url';

import { Logger } from '@nestjs/common';

import { createStockApp } from './app.js';
import { ConfigError, L1_STORE_MAX_BYTES, defaultSettings, settingsFromEnv } from './config.js';
import type { StockServiceSettings } from './config.js';

function describeCache(settings: StockServiceSettings): string {
  if (settings.cacheMode === 'cache-manager') return `@nestjs/cache-manager (Keyv memory${settings.redisUrl !== undefined ? ' + Redis' : ''})`;
  const l1 = settings.l1Store !== undefined ? `L1 in memory + files in ${settings.l1Store.directory} (a restart is warm)` : 'L1 in memory only';
  const l2 = settings.redisUrl !== undefined ? `, Redis L2 and bus at ${settings.redisUrl}` : ' (set REDIS_URL for Redis as L2 and the bus)';
  return `tickcache${settings.cacheMode === 'off' ? ', switched OFF' : ''}: ${l1}${l2}`;
}

async function main(): Promise<void> {
  let settings: StockServiceSettings;
  try {
    const defaults = defaultSettings();
    defaults.l1Store = { directory: fileURLToPath(new URL('../var/l1-cache', import.meta.url)), maxFileBytes: L1_STORE_MAX_BYTES };
    settings = settingsFromEnv(process.env, defaults);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`stock-service: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const app = await createStockApp(settings);
  await app.listen(settings.port, settings.host);
  const url = (await app.getUrl()).replace('[::1]', 'localhost').replace('127.0.0.1', 'localhost');
  const { latencyMs, rateLimitPerSecond, failureRate } = settings.vendor;
  const lines = [
    '',
    `stock-service listening on ${url}`,
    `  cache:  ${describeCache(settings)}`,
    `  vendor: simulated, ${latencyMs?.min}-${latencyMs?.max} ms, ${rateLimitPerSecond} calls/s, ${(failureRate ?? 0) * 100} % failures`,
    '',
    `  curl -i ${url}/stocks/AAPL/price        X-Cache: HIT (warmed at start), ETag, Cache-Control`,
    `  curl -i ${url}/stocks/KO/price          MISS: one vendor call (0.5-2 s); again: HIT`,
    `  ${url}/stocks/AAPL/history   ${url}/stocks/AAPL/fundamentals   ${url}/symbols`,
    `  ${url}/vendor/stats    vendor calls so far     ${url}/health    ${url}/metrics`,
    `  curl -H "Authorization: Bearer $ADMIN_TOKEN" ${url}/cache/stats   (also /cache/report, /cache/health;`,
    `       POST /cache/invalidate?event=symbol.corporate-action&data={"symbol":"AAPL"}, POST /cache/refresh)`,
    '',
  ];
  new Logger('StockService').log(lines.join('\n'));
}

main().catch((error: unknown) => {
  process.stderr.write(`stock-service failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
