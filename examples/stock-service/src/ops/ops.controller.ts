// src/ops/ops.controller.ts: what operators look at: GET / (where everything is), GET /health
// (@nestjs/terminus, with tickcache's health indicator) and GET /metrics (prom-client, the
// cache's counters through TickCacheModule's collector).
//
// /health answers "can this instance serve?", so a degraded cache does not take it out of a
// load balancer: a cold cache's hit rate, Redis away (the service answers from L1 and the
// vendor) or caching switched off are reported in the details, never "down". The cache's own
// verdict (503 below 80 % hits, Redis away, caching off) is GET /cache/health, for alerts.

import { Controller, Get, Header, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Registry } from 'prom-client';

import { NoCache, TickCacheHealthIndicator } from '../tickcache-nest.js';

/** The app's prom-client registry (one per app: several apps may run in one process, in tests). */
export const METRICS_REGISTRY = 'stock:MetricsRegistry';

export function endpointIndex(base = ''): Record<string, string> {
  return {
    symbols: `${base}/symbols`,
    price: `${base}/stocks/{symbol}/price`,
    history: `${base}/stocks/{symbol}/history`,
    fundamentals: `${base}/stocks/{symbol}/fundamentals`,
    vendorStats: `${base}/vendor/stats`,
    health: `${base}/health`,
    metrics: `${base}/metrics`,
    admin: `${base}/cache/{stats,report,health,metrics} GET; /cache/{invalidate,refresh,enabled,clear/{symbol}} POST; /cache/clear DELETE (Authorization: Bearer <ADMIN_TOKEN>)`,
  };
}

@Controller()
@NoCache()
export class OpsController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(TickCacheHealthIndicator) private readonly cache: TickCacheHealthIndicator,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
  ) {}

  @Get()
  index(): Record<string, string> {
    return endpointIndex();
  }

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.cache.isHealthy('cache', { ignore: ['hitRate', 'l2', 'enabled'] })]);
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
