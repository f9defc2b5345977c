// src/config.ts: the service's settings: embedded defaults (the service runs with no
// configuration at all), environment variables over them, and one cache configuration file
// (CACHE_CONFIG, per environment) for the TTL rules and the event map -- the rules live there,
// never at call sites.
//
// Invariants: a bad setting stops the service at start with a ConfigError (code bad_config)
// that names the variable or field and the value; a setting that is not given keeps its
// default; nothing here reads the environment after start-up.

import { readFileSync } from 'node:fs';

import type { EventMap, PolicyConfig } from './tickcache.js';
import type { VendorOptions } from './vendor/vendor.js';
import { UNIVERSE } from './vendor/market-data.js';

export type CacheMode = 'tickcache' | 'cache-manager' | 'off';

export interface StockServiceSettings {
  port: number;
  host: string;
  /** With it: Redis as L2, the cross-instance load lock and the invalidation bus. */
  redisUrl?: string;
  /** Prefix of every Redis key and of the bus channel. */
  redisNamespace: string;
  /**
   * tickcache (default); off: tickcache with its global switch off (every request reaches the
   * vendor; POST /cache/enabled turns it back on); cache-manager: @nestjs/cache-manager's
   * CacheInterceptor over Keyv, memory in front of the same Redis (the benchmark's peer).
   */
  cacheMode: CacheMode;
  /** Bearer token of the admin endpoints; without one they refuse everybody. */
  adminToken?: string;
  vendor: VendorOptions;
  /** Symbols whose price, history and fundamentals are loaded at start. */
  warmSymbols: string[];
  /** Between refresher runs (hot keys near expiry are reloaded from the vendor). */
  refreshIntervalMs: number;
  /** L1's bound. */
  l1MaxEntries: number;
  /** L1 in log files under this directory (a restart is warm); absent: L1 in memory only. */
  l1Store?: { directory: string; maxFileBytes: number };
  /** L1's TTL rules (tickcache's policy document, core/include/tickcache/config.h). */
  policy: PolicyConfig;
  /** Domain event -> what it invalidates. */
  events: EventMap;
  /** GET /cache/health reports degraded below this hit rate. */
  minHitRate: number;
  /** The clock of the cache and of the vendor's market (tests fix it to a market day). */
  clock?: () => number;
  /** Nest's logger: false silences it (tests, benchmark). */
  logs: boolean;
  /**
   * One structured line per request (method, path, status, X-Cache, ms): LOG_REQUESTS=1 prints
   * them through Nest's logger; tests pass a function to collect them.
   */
  requestLog?: boolean | ((entry: RequestLogEntry) => void);
}

export interface RequestLogEntry {
  event: 'request';
  method: string;
  path: string;
  status: number;
  cache: string | null;
  ms: number;
}

export class ConfigError extends Error {
  readonly code = 'bad_config';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * The fixed TTLs of USER-NEEDS.md (ms). @nestjs/cache-manager has no market hours: its peer app
 * caches prices for OPEN_MARKET_PRICE_TTL_MS at any hour.
 */
export const OPEN_MARKET_PRICE_TTL_MS = 5 * 60_000;
export const HISTORY_TTL_MS = 3_600_000;
export const FUNDAMENTALS_TTL_MS = 24 * 3_600_000;
export const SYMBOLS_TTL_MS = 6 * 3_600_000;
/** Disk bound of the file-backed L1 (USER-NEEDS.md: disk cache under 1 GB). */
export const L1_STORE_MAX_BYTES = 256 * 1024 * 1024;

/**
 * TTLs from USER-NEEDS.md: latest price 5 min while the NYSE is open and until the next open
 * after the close (marketHours); recent OHLCV (30 days) 1 h; fundamentals 24 h; symbol list
 * 6 h. Grace (stale-while-revalidate, stale-if-error) lets the service answer while the vendor
 * is slow or failing. The `symbol:{1}` tag lets one call drop every key of a symbol.
 */
export const DEFAULT_POLICY: PolicyConfig = {
  rules: [
    {
      match: 'price:latest:*',
      grace: '30m',
      tags: ['prices', 'symbol:{1}'],
      marketHours: { calendar: 'nyse', open: OPEN_MARKET_PRICE_TTL_MS, closed: 'untilOpen' },
    },
    { match: 'data:recent:*', ttl: HISTORY_TTL_MS, grace: '6h', tags: ['history', 'symbol:{1}'] },
    { match: 'fundamentals:*', ttl: FUNDAMENTALS_TTL_MS, grace: '24h', tags: ['fundamentals', 'symbol:{1}'] },
    { match: 'symbols:list', ttl: SYMBOLS_TTL_MS, grace: '24h', tags: ['symbols'] },
  ],
};

/** The event map of USER-NEEDS.md, plus this service's own market events. */
export const DEFAULT_EVENTS: EventMap = {
  // A new quote pushed by the vendor's stream: the cached one is out of date.
  'price.updated': { keys: ['price:latest:{symbol}'] },
  // Split, dividend, restatement: every key of the symbol ("*:AAPL").
  'symbol.corporate-action': { patterns: ['*:{symbol}'] },
  'symbols.changed': { keys: ['symbols:list'] },
  // At the bell every price is reloaded with the closed-market TTL (until the next open).
  'market.closed': { tags: ['prices'] },
  'market.opened': { tags: ['prices'] },
  // From the signals platform that shares this Redis (USER-NEEDS.md's event map).
  'signal.created': { patterns: ['feed:*'], keys: ['provider:{providerId}:stats', 'leaderboard:top'] },
  'trade.executed': { patterns: ['feed:{userId}:*'], keys: ['portfolio:{userId}'] },
};

/** The most traded symbols, loaded at start. */
export const DEFAULT_WARM_COUNT = 10;

export function defaultSettings(): StockServiceSettings {
  return {
    port: 3000,
    host: '127.0.0.1',
    redisNamespace: 'stock:',
    cacheMode: 'tickcache',
    vendor: { latencyMs: { min: 500, max: 2000 }, rateLimitPerSecond: 20, failureRate: 0.02 },
    warmSymbols: UNIVERSE.slice(0, DEFAULT_WARM_COUNT).map((info) => info.symbol),
    refreshIntervalMs: 5 * 60_000,
    l1MaxEntries: 10_000,
    policy: DEFAULT_POLICY,
    events: DEFAULT_EVENTS,
    minHitRate: 0.8,
    logs: true,
  };
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function parseDurationMs(name: string, text: string): number {
  const match = DURATION.exec(text.trim());
  if (match === null) throw new ConfigError(`${name} must be a duration such as 500, 250ms, 30s or 5m, got ${JSON.stringify(text)}`);
  return Number(match[1]) * UNIT_MS[match[2] ?? 'ms']!;
}

function parseNumber(name: string, text: string, check: (n: number) => boolean, what: string): number {
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(value) || !check(value)) {
    throw new ConfigError(`${name} must be ${what}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** "500-2000" or "800" (fixed), in ms. */
function parseLatency(name: string, text: string): { min: number; max: number } {
  const parts = text.split('-').map((part) => part.trim());
  if (parts.length > 2 || parts.some((part) => !/^\d+(\.\d+)?$/.test(part))) {
    throw new ConfigError(`${name} must be "MIN-MAX" or "MS" in milliseconds, got ${JSON.stringify(text)}`);
  }
  const min = Number(parts[0]);
  const max = Number(parts[1] ?? parts[0]);
  if (max < min) throw new ConfigError(`${name}: max below min in ${JSON.stringify(text)}`);
  return { min, max };
}

interface CacheFile {
  policy?: PolicyConfig;
  events?: EventMap;
}

/** The cache configuration file: { "policy": {...}, "events": {...} }; either part may be left out. */
export function readCacheFile(path: string): CacheFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`CACHE_CONFIG ${JSON.stringify(path)} cannot be read: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`CACHE_CONFIG ${JSON.stringify(path)} is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`CACHE_CONFIG ${JSON.stringify(path)} must hold an object { "policy", "events" }`);
  }
  const file = parsed as Record<string, unknown>;
  for (const field of Object.keys(file)) {
    if (field !== 'policy' && field !== 'events') {
      throw new ConfigError(`CACHE_CONFIG ${JSON.stringify(path)}: unknown field ${JSON.stringify(field)} (policy, events)`);
    }
  }
  // Both parts are checked in full by tickcache when the cache is created (names the bad field).
  return file as CacheFile;
}

/** Settings from the environment over `defaults`. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env, defaults = defaultSettings()): StockServiceSettings {
  const settings = defaults;
  const text = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value;
  };
  const port = text('PORT');
  if (port !== undefined) {
    settings.port = parseNumber('PORT', port, (n) => Number.isInteger(n) && n >= 0 && n <= 65_535, 'a port number 0-65535');
  }
  settings.host = text('HOST') ?? settings.host;
  const redisUrl = text('REDIS_URL');
  if (redisUrl !== undefined) {
    if (!/^rediss?:\/\//.test(redisUrl)) throw new ConfigError(`REDIS_URL must start with redis:// or rediss://, got ${JSON.stringify(redisUrl)}`);
    settings.redisUrl = redisUrl;
  }
  settings.redisNamespace = text('REDIS_NAMESPACE') ?? settings.redisNamespace;
  const mode = text('CACHE_MODE');
  if (mode !== undefined) {
    if (mode !== 'tickcache' && mode !== 'cache-manager' && mode !== 'off') {
      throw new ConfigError(`CACHE_MODE must be tickcache, cache-manager or off, got ${JSON.stringify(mode)}`);
    }
    settings.cacheMode = mode;
  }
  const token = text('ADMIN_TOKEN');
  if (token !== undefined) settings.adminToken = token;
  const latency = text('VENDOR_LATENCY_MS');
  if (latency !== undefined) settings.vendor.latencyMs = parseLatency('VENDOR_LATENCY_MS', latency);
  const limit = text('VENDOR_RATE_LIMIT');
  if (limit !== undefined) {
    settings.vendor.rateLimitPerSecond = parseNumber('VENDOR_RATE_LIMIT', limit, (n) => Number.isInteger(n) && n >= 0, 'calls per second, a whole number (0: no limit)');
  }
  const failures = text('VENDOR_FAILURE_RATE');
  if (failures !== undefined) {
    settings.vendor.failureRate = parseNumber('VENDOR_FAILURE_RATE', failures, (n) => n >= 0 && n <= 1, 'a fraction in [0, 1]');
  }
  const seed = text('VENDOR_SEED');
  if (seed !== undefined) settings.vendor.seed = parseNumber('VENDOR_SEED', seed, Number.isInteger, 'an integer');
  const warm = text('WARM_SYMBOLS');
  if (warm !== undefined) {
    // "none": warm nothing but the symbol list (the benchmark compares cold caches).
    const listed = warm.trim() === 'none' ? [] : warm.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    const bad = listed.find((s) => !SYMBOL_PATTERN.test(s.toUpperCase()));
    if (bad !== undefined) throw new ConfigError(`WARM_SYMBOLS: ${JSON.stringify(bad)} is not a symbol`);
    settings.warmSymbols = listed.map((s) => s.toUpperCase()); // as the routes normalize them
  }
  const interval = text('REFRESH_INTERVAL');
  if (interval !== undefined) {
    settings.refreshIntervalMs = parseDurationMs('REFRESH_INTERVAL', interval);
    if (settings.refreshIntervalMs <= 0) throw new ConfigError(`REFRESH_INTERVAL must be > 0, got ${JSON.stringify(interval)}`);
  }
  const maxEntries = text('L1_MAX_ENTRIES');
  if (maxEntries !== undefined) {
    settings.l1MaxEntries = parseNumber('L1_MAX_ENTRIES', maxEntries, (n) => Number.isInteger(n) && n > 0, 'a whole number > 0');
  }
  const store = text('L1_STORE');
  if (store !== undefined && store !== 'memory' && store !== 'file') {
    throw new ConfigError(`L1_STORE must be memory or file, got ${JSON.stringify(store)}`);
  }
  const storeDir = text('L1_STORE_DIR');
  if (store === 'memory') delete settings.l1Store;
  else if (storeDir !== undefined) settings.l1Store = { directory: storeDir, maxFileBytes: L1_STORE_MAX_BYTES };
  else if (store === 'file' && settings.l1Store === undefined) throw new ConfigError('L1_STORE=file needs L1_STORE_DIR');
  const minHitRate = text('MIN_HIT_RATE');
  if (minHitRate !== undefined) settings.minHitRate = parseNumber('MIN_HIT_RATE', minHitRate, (n) => n >= 0 && n <= 1, 'a fraction in [0, 1]');
  const file = text('CACHE_CONFIG');
  if (file !== undefined) {
    const cacheFile = readCacheFile(file);
    if (cacheFile.policy !== undefined) settings.policy = cacheFile.policy;
    if (cacheFile.events !== undefined) settings.events = cacheFile.events;
  }
  const requestLog = text('LOG_REQUESTS');
  if (requestLog !== undefined) settings.requestLog = requestLog !== '0' && requestLog !== 'false';
  const logs = text('LOGS');
  if (logs !== undefined) settings.logs = logs !== '0' && logs !== 'false';
  return settings;
}

/** What a path parameter must look like to be sent to the vendor: "AAPL", "BRK.B". */
export const SYMBOL_PATTERN = /^[A-Z][A-Z0-9.]{0,9}$/;
