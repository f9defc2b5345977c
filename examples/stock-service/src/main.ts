// src/main.ts: starts the stock service from the environment (config.ts) and prints where to
// look. `bash run.sh` builds and runs this.

import { Logger } from '@nestjs/common';

import { createStockApp } from './app.js';
import { ConfigError, settingsFromEnv } from './config.js';

async function main(): Promise<void> {
  let settings;
  try {
    settings = settingsFromEnv();
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
  const lines = [
    '',
    `stock-service listening on ${url}`,
    `  cache: ${settings.cacheMode}${settings.cacheMode === 'tickcache' ? (settings.redisUrl !== undefined ? ` (L1 + Redis L2 and bus at ${settings.redisUrl})` : ' (L1 in memory only: set REDIS_URL for Redis as L2)') : ''}`,
    `  vendor: simulated, ${settings.vendor.latencyMs?.min}-${settings.vendor.latencyMs?.max} ms, ${settings.vendor.rateLimitPerSecond} calls/s, ${(settings.vendor.failureRate ?? 0) * 100} % failures`,
    '',
    `  ${url}/symbols`,
    `  ${url}/stocks/AAPL/price          (run it twice: X-Cache MISS, then HIT)`,
    `  ${url}/stocks/AAPL/history`,
    `  ${url}/stocks/AAPL/fundamentals`,
    `  ${url}/vendor/stats               (vendor calls so far)`,
    `  ${url}/cache/stats                (admin: Authorization: Bearer $ADMIN_TOKEN)`,
    '',
  ];
  new Logger('StockService').log(lines.join('\n'));
}

main().catch((error: unknown) => {
  process.stderr.write(`stock-service failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
