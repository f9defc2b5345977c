// js/src/tiered/stats.ts: what a tiered cache counts, per tier (L1, L2, loader), and how it is
// shown: a JSON-able snapshot, a health verdict and Prometheus text exposition.
//
// Invariants: counters only grow; a request is counted once per tier it reached; latencies are
// recorded for calls that crossed to a tier that can be slow (L2, the loader), not for L1.

import { LatencyHistogram } from './latency.js';
import type { LatencySummary } from './latency.js';

export class TierCounters {
  hits = 0;
  misses = 0;
  graced = 0;
  errors = 0;
  readonly latency = new LatencyHistogram();
}

export interface TierSnapshot {
  hits: number;
  misses: number;
  graced: number;
  errors: number;
  hitRate: number;
  latency: LatencySummary;
}

export interface TieredStatsSnapshot {
  l1: TierSnapshot;
  l2: TierSnapshot & { breaker: string; breakerOpened: number; breakerClosed: number };
  loader: { calls: number; errors: number; timeouts: number; latency: LatencySummary };
  coalesced: number;
  /** Invalidations the bus could not carry to the other instances. */
  busErrors: number;
  backgroundRefreshes: number;
  /** Requests answered from a cache tier (fresh or graced) over all requests. */
  hitRate: number;
  requests: number;
  enabled: boolean;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  hitRate: number;
  minHitRate: number;
  requests: number;
  reasons: string[];
}

export function tierSnapshot(counters: TierCounters): TierSnapshot {
  const lookups = counters.hits + counters.graced + counters.misses;
  return {
    hits: counters.hits,
    misses: counters.misses,
    graced: counters.graced,
    errors: counters.errors,
    hitRate: lookups === 0 ? 0 : (counters.hits + counters.graced) / lookups,
    latency: counters.latency.summary(),
  };
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Prometheus text format (version 0.0.4) for one snapshot; `labels` are added to every sample. */
export function prometheusText(stats: TieredStatsSnapshot, labels: Record<string, string> = {}): string {
  const base = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabel(value)}"`);
  const sample = (name: string, extra: Record<string, string>, value: number): string => {
    const all = [...base, ...Object.entries(extra).map(([k, v]) => `${k}="${escapeLabel(v)}"`)];
    return `${name}${all.length ? `{${all.join(',')}}` : ''} ${Number.isFinite(value) ? value : 0}`;
  };
  const lines: string[] = [];
  const family = (name: string, type: string, help: string, samples: string[]): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples);
  };
  family('tickcache_requests_total', 'counter', 'Lookups per tier and result.', [
    ...(['l1', 'l2'] as const).flatMap((tier) => [
      sample('tickcache_requests_total', { tier, result: 'hit' }, stats[tier].hits),
      sample('tickcache_requests_total', { tier, result: 'graced' }, stats[tier].graced),
      sample('tickcache_requests_total', { tier, result: 'miss' }, stats[tier].misses),
    ]),
  ]);
  family('tickcache_errors_total', 'counter', 'Failed calls per tier.', [
    sample('tickcache_errors_total', { tier: 'l1' }, stats.l1.errors),
    sample('tickcache_errors_total', { tier: 'l2' }, stats.l2.errors),
    sample('tickcache_errors_total', { tier: 'loader' }, stats.loader.errors),
  ]);
  family('tickcache_loader_calls_total', 'counter', 'Loader calls.', [sample('tickcache_loader_calls_total', {}, stats.loader.calls)]);
  family('tickcache_loader_timeouts_total', 'counter', 'Loader calls past the hard timeout.', [
    sample('tickcache_loader_timeouts_total', {}, stats.loader.timeouts),
  ]);
  family('tickcache_coalesced_total', 'counter', 'Callers that waited for a load already running.', [
    sample('tickcache_coalesced_total', {}, stats.coalesced),
  ]);
  family('tickcache_latency_seconds', 'gauge', 'Latency per tier (mean, p50, p99).', [
    ...(['l2', 'loader'] as const).flatMap((tier) => [
      sample('tickcache_latency_seconds', { tier, stat: 'mean' }, stats[tier].latency.meanMs / 1000),
      sample('tickcache_latency_seconds', { tier, stat: 'p50' }, stats[tier].latency.p50Ms / 1000),
      sample('tickcache_latency_seconds', { tier, stat: 'p99' }, stats[tier].latency.p99Ms / 1000),
    ]),
  ]);
  family('tickcache_hit_ratio', 'gauge', 'Requests answered from a cache tier over all requests.', [
    sample('tickcache_hit_ratio', {}, stats.hitRate),
  ]);
  family('tickcache_l2_breaker_open', 'gauge', '1 while the L2 circuit breaker is open.', [
    sample('tickcache_l2_breaker_open', {}, stats.l2.breaker === 'closed' ? 0 : 1),
  ]);
  return `${lines.join('\n')}\n`;
}
