// js/src/nest/report.ts: the admin report: hit rates per tier, L1 memory against its bound,
// latency, the refresher's last run, the most-read keys, the health verdict and alerts (hit
// rate below its threshold, memory above 80 % of its bound, slow L2 or loader), as JSON and as
// text for a human.
//
// Invariant: reading a report changes nothing (L1's stats() and the key table are only read).

import type { RefreshReport } from '../tiered/refresher.js';
import type { HealthReport, TieredStatsSnapshot } from '../tiered/stats.js';
import type { TieredCache } from '../tiered/tiered-cache.js';
import type { CacheStats } from '../types.js';
import type { KeyUsageEntry } from './key-usage.js';
import { keyUsageOf } from './key-usage.js';
import type { TickCacheAlertThresholds } from './options.js';

export interface Alert {
  name: 'hit_rate_low' | 'memory_high' | 'l2_slow' | 'loader_slow' | 'l2_unavailable' | 'caching_off';
  message: string;
  value: number;
  threshold: number;
}

export interface L1Memory {
  entries: number;
  maxEntries: number;
  bytes: number;
  maxBytes: number;
  /** The larger of bytes/maxBytes and entries/maxEntries (bounds that are set). */
  usedRatio: number;
  evictions: number;
  expirations: number;
}

export interface CacheReport {
  generatedAt: string;
  health: HealthReport;
  alerts: Alert[];
  stats: TieredStatsSnapshot;
  l1Memory: L1Memory;
  refresher: { running: boolean; runs: number; lastReport: RefreshReport | null };
  topKeys: KeyUsageEntry[];
}

function ratio(used: number, bound: number): number {
  return bound > 0 ? used / bound : 0;
}

export function l1MemoryOf(stats: CacheStats): L1Memory {
  return {
    entries: stats.entries,
    maxEntries: stats.maxEntries,
    bytes: stats.bytes,
    maxBytes: stats.maxBytes,
    usedRatio: Math.max(ratio(stats.bytes, stats.maxBytes), ratio(stats.entries, stats.maxEntries)),
    evictions: stats.evictions,
    expirations: stats.expirations,
  };
}

export function buildReport(cache: TieredCache, thresholds: TickCacheAlertThresholds = {}, topKeys = 20): CacheReport {
  const stats = cache.stats();
  const health = cache.health(thresholds.minHitRate);
  const l1Memory = l1MemoryOf(cache.l1.stats());
  const alerts: Alert[] = [];
  const maxMemoryRatio = thresholds.maxMemoryRatio ?? 0.8;
  const maxL2P99Ms = thresholds.maxL2P99Ms ?? 10;
  if (stats.requests > 0 && stats.hitRate < health.minHitRate) {
    alerts.push({
      name: 'hit_rate_low',
      message: `hit rate ${(stats.hitRate * 100).toFixed(1)} % is below ${(health.minHitRate * 100).toFixed(1)} %`,
      value: stats.hitRate,
      threshold: health.minHitRate,
    });
  }
  if (l1Memory.usedRatio > maxMemoryRatio) {
    alerts.push({
      name: 'memory_high',
      message: `L1 holds ${(l1Memory.usedRatio * 100).toFixed(1)} % of its bound (alert above ${(maxMemoryRatio * 100).toFixed(0)} %)`,
      value: l1Memory.usedRatio,
      threshold: maxMemoryRatio,
    });
  }
  if (stats.l2.latency.count > 0 && stats.l2.latency.p99Ms > maxL2P99Ms) {
    alerts.push({
      name: 'l2_slow',
      message: `L2 p99 ${stats.l2.latency.p99Ms.toFixed(1)} ms is above ${maxL2P99Ms} ms`,
      value: stats.l2.latency.p99Ms,
      threshold: maxL2P99Ms,
    });
  }
  const maxLoaderP99Ms = thresholds.maxLoaderP99Ms;
  if (maxLoaderP99Ms !== undefined && stats.loader.latency.count > 0 && stats.loader.latency.p99Ms > maxLoaderP99Ms) {
    alerts.push({
      name: 'loader_slow',
      message: `loader p99 ${stats.loader.latency.p99Ms.toFixed(0)} ms is above ${maxLoaderP99Ms} ms`,
      value: stats.loader.latency.p99Ms,
      threshold: maxLoaderP99Ms,
    });
  }
  if (stats.l2.breaker !== 'closed') {
    alerts.push({ name: 'l2_unavailable', message: `L2 circuit breaker ${stats.l2.breaker}`, value: 1, threshold: 0 });
  }
  if (!stats.enabled) alerts.push({ name: 'caching_off', message: 'caching is switched off', value: 1, threshold: 0 });
  const refresher = cache.refresher;
  return {
    generatedAt: new Date().toISOString(),
    health,
    alerts,
    stats,
    l1Memory,
    refresher: { running: refresher !== undefined, runs: refresher?.runs ?? 0, lastReport: refresher?.lastReport ?? null },
    topKeys: keyUsageOf(cache).top(topKeys),
  };
}

const percent = (x: number): string => `${(x * 100).toFixed(1)} %`;
const ms = (x: number): string => `${x.toFixed(x < 10 ? 2 : 0)} ms`;

function megabytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}

/** The report as plain text (GET /cache/report?format=text). */
export function renderReportText(report: CacheReport): string {
  const { stats, health, l1Memory } = report;
  const lines: string[] = [];
  lines.push(`tickcache report, ${report.generatedAt}`);
  lines.push(`status: ${health.status}${health.reasons.length > 0 ? ` (${health.reasons.join('; ')})` : ''}`);
  lines.push(`hit rate: ${percent(stats.hitRate)} over ${stats.requests} requests (threshold ${percent(health.minHitRate)})`);
  lines.push('');
  lines.push('tier    hits      stale     misses    hit rate   p50        p99');
  const row = (name: string, t: TieredStatsSnapshot['l1'], latency: boolean): string =>
    [
      name.padEnd(7),
      String(t.hits).padEnd(9),
      String(t.graced).padEnd(9),
      String(t.misses).padEnd(9),
      percent(t.hitRate).padEnd(10),
      (latency ? ms(t.latency.p50Ms) : '-').padEnd(10),
      latency ? ms(t.latency.p99Ms) : '-',
    ].join(' ');
  lines.push(row('L1', stats.l1, false));
  lines.push(row('L2', stats.l2, true) + `   breaker ${stats.l2.breaker}`);
  lines.push(
    `loader  ${stats.loader.calls} calls, ${stats.loader.errors} errors, ${stats.loader.timeouts} timeouts, ` +
      `p50 ${ms(stats.loader.latency.p50Ms)}, p99 ${ms(stats.loader.latency.p99Ms)}; ${stats.coalesced} coalesced`,
  );
  lines.push(
    `L1 memory: ${l1Memory.entries}${l1Memory.maxEntries > 0 ? ` / ${l1Memory.maxEntries}` : ''} entries, ` +
      `${megabytes(l1Memory.bytes)}${l1Memory.maxBytes > 0 ? ` / ${megabytes(l1Memory.maxBytes)}` : ''} ` +
      `(${percent(l1Memory.usedRatio)} of its bound), ${l1Memory.evictions} evictions, ${l1Memory.expirations} expirations`,
  );
  const last = report.refresher.lastReport;
  lines.push(
    `refresher: ${report.refresher.running ? `on, ${report.refresher.runs} runs` : 'off'}` +
      (last !== null ? `; last run ${last.refreshed} refreshed (${last.changed} changed), ${last.failed} failed` : ''),
  );
  lines.push('');
  lines.push(`alerts: ${report.alerts.length === 0 ? 'none' : ''}`);
  for (const alert of report.alerts) lines.push(`  ${alert.name}: ${alert.message}`);
  lines.push('');
  lines.push(`top keys${report.topKeys.length === 0 ? ': none recorded' : ''}`);
  for (const entry of report.topKeys) {
    lines.push(`  ${entry.key.padEnd(40)} ${entry.hits} hits, ${entry.stale} stale, ${entry.misses} misses (${percent(entry.hitRate)})`);
  }
  return `${lines.join('\n')}\n`;
}
