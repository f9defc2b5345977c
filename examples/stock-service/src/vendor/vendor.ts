// src/vendor/vendor.ts: a simulated market-data vendor, inside the service (no network): what
// the users' vendors do to them -- answers in 500-2000 ms, a per-second call limit answered
// with a 429-like error, occasional failures -- with a counter of every call, so a test or a
// benchmark can prove how many calls the cache saved.
//
// Invariants:
// - Every call is counted once, by endpoint and by outcome (ok, rate_limited, failed,
//   not_found); `calls` is their sum, so calls = ok + rateLimited + failed + notFound.
// - The rate limit is a sliding one-second window over the calls it admitted; a refused call
//   is answered quickly (a real vendor does not make you wait to say no) and does not use up
//   the window.
// - Failures come from a seeded PRNG: the same seed and the same call order give the same
//   failures, so a test run can be repeated.
// - The values themselves are pure functions of (symbol, time) (market-data.ts).

import type { Fundamentals, PriceHistory, Quote, SymbolInfo } from './market-data.js';
import { UNIVERSE, fundamentalsOf, historyAt, quoteAt, seededRandom, symbolInfo } from './market-data.js';

export type VendorEndpoint = 'quote' | 'history' | 'fundamentals' | 'symbols';
export type VendorErrorCode = 'vendor_rate_limited' | 'vendor_unavailable' | 'unknown_symbol';

export class VendorError extends Error {
  constructor(
    readonly code: VendorErrorCode,
    message: string,
    /** For vendor_rate_limited: when the window has room again, ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'VendorError';
  }
}

export interface VendorOptions {
  /** Each answer takes a uniform time in [min, max] ms. Default 500-2000 (what users measured). */
  latencyMs?: { min: number; max: number };
  /** Calls admitted per second; 0: no limit. Default 20. */
  rateLimitPerSecond?: number;
  /** Fraction of admitted calls that fail (0..1). Default 0.02. */
  failureRate?: number;
  /** PRNG seed for latencies and failures. Default 1. */
  seed?: number;
  /** How often a quote changes, ms. Default 60 000. */
  tickMs?: number;
  /** The market's clock (quote times, history dates); tests pass a fixed one. Default Date.now. */
  clock?: () => number;
}

export interface VendorSettings {
  latencyMs: { min: number; max: number };
  rateLimitPerSecond: number;
  failureRate: number;
  tickMs: number;
}

export interface VendorStats {
  calls: number;
  ok: number;
  rateLimited: number;
  failed: number;
  notFound: number;
  byEndpoint: Record<VendorEndpoint, number>;
  inFlight: number;
  maxInFlight: number;
  /** Since the counters were last reset. */
  sinceMs: number;
  callsPerMinute: number;
  settings: VendorSettings;
}

const REFUSAL_LATENCY_MS = 20;

function checkSettings(settings: VendorSettings): void {
  const { latencyMs, rateLimitPerSecond, failureRate, tickMs } = settings;
  if (!(Number.isFinite(latencyMs.min) && latencyMs.min >= 0 && Number.isFinite(latencyMs.max) && latencyMs.max >= latencyMs.min)) {
    throw new RangeError(`vendor latencyMs must be 0 <= min <= max, got ${JSON.stringify(latencyMs)}`);
  }
  if (!(Number.isInteger(rateLimitPerSecond) && rateLimitPerSecond >= 0)) {
    throw new RangeError(`vendor rateLimitPerSecond must be a whole number >= 0, got ${rateLimitPerSecond}`);
  }
  if (!(failureRate >= 0 && failureRate <= 1)) {
    throw new RangeError(`vendor failureRate must be in [0, 1], got ${failureRate}`);
  }
  if (!(Number.isFinite(tickMs) && tickMs > 0)) throw new RangeError(`vendor tickMs must be > 0, got ${tickMs}`);
}

export class SimulatedVendor {
  private settings: VendorSettings;
  private readonly random: () => number;
  private readonly clock: () => number;
  // Start times (performance.now) of admitted calls within the last second, oldest first.
  private window: number[] = [];
  private counters = SimulatedVendor.zero();
  private countersSince = performance.now();
  private inFlight = 0;
  private maxInFlight = 0;

  constructor(options: VendorOptions = {}) {
    this.settings = {
      latencyMs: options.latencyMs ?? { min: 500, max: 2000 },
      rateLimitPerSecond: options.rateLimitPerSecond ?? 20,
      failureRate: options.failureRate ?? 0.02,
      tickMs: options.tickMs ?? 60_000,
    };
    checkSettings(this.settings);
    this.random = seededRandom(options.seed ?? 1);
    this.clock = options.clock ?? Date.now;
  }

  private static zero(): Omit<VendorStats, 'inFlight' | 'maxInFlight' | 'sinceMs' | 'callsPerMinute' | 'settings'> {
    return { calls: 0, ok: 0, rateLimited: 0, failed: 0, notFound: 0, byEndpoint: { quote: 0, history: 0, fundamentals: 0, symbols: 0 } };
  }

  /** Changes latency, limit or failure rate at run time (the demo's "make the vendor fail"). */
  configure(changes: Partial<VendorSettings>): VendorSettings {
    const next = { ...this.settings, ...changes };
    checkSettings(next);
    this.settings = next;
    return { ...next };
  }

  getSettings(): VendorSettings {
    return { ...this.settings, latencyMs: { ...this.settings.latencyMs } };
  }

  quote(symbol: string): Promise<Quote> {
    return this.call('quote', () => quoteAt(this.known(symbol), this.clock(), this.settings.tickMs));
  }

  history(symbol: string, days = 30): Promise<PriceHistory> {
    return this.call('history', () => historyAt(this.known(symbol), this.clock(), days));
  }

  fundamentals(symbol: string): Promise<Fundamentals> {
    return this.call('fundamentals', () => fundamentalsOf(this.known(symbol)));
  }

  symbols(): Promise<SymbolInfo[]> {
    return this.call('symbols', () => UNIVERSE.map((info) => ({ ...info })));
  }

  stats(): VendorStats {
    const sinceMs = performance.now() - this.countersSince;
    return {
      ...this.counters,
      byEndpoint: { ...this.counters.byEndpoint },
      inFlight: this.inFlight,
      maxInFlight: this.maxInFlight,
      sinceMs,
      callsPerMinute: sinceMs > 0 ? (this.counters.calls / sinceMs) * 60_000 : 0,
      settings: this.getSettings(),
    };
  }

  resetStats(): void {
    this.counters = SimulatedVendor.zero();
    this.countersSince = performance.now();
    this.maxInFlight = this.inFlight;
  }

  private known(symbol: string): SymbolInfo {
    const info = symbolInfo(symbol);
    if (info === undefined) throw new VendorError('unknown_symbol', `the vendor knows no symbol ${JSON.stringify(symbol)}`);
    return info;
  }

  private async call<T>(endpoint: VendorEndpoint, answer: () => T): Promise<T> {
    this.counters.calls++;
    this.counters.byEndpoint[endpoint]++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const retryAfterMs = this.admit();
      if (retryAfterMs !== undefined) {
        this.counters.rateLimited++;
        await delay(Math.min(REFUSAL_LATENCY_MS, this.settings.latencyMs.max));
        throw new VendorError(
          'vendor_rate_limited',
          `vendor rate limit of ${this.settings.rateLimitPerSecond} calls/s reached (${endpoint})`,
          retryAfterMs,
        );
      }
      const { min, max } = this.settings.latencyMs;
      await delay(min + this.random() * (max - min));
      if (this.random() < this.settings.failureRate) {
        this.counters.failed++;
        throw new VendorError('vendor_unavailable', `vendor answered 503 to ${endpoint}`);
      }
      try {
        const value = answer();
        this.counters.ok++;
        return value;
      } catch (error) {
        if (error instanceof VendorError && error.code === 'unknown_symbol') this.counters.notFound++;
        else this.counters.failed++;
        throw error;
      }
    } finally {
      this.inFlight--;
    }
  }

  /** undefined when the call may go ahead; otherwise ms until the window has room. */
  private admit(): number | undefined {
    const limit = this.settings.rateLimitPerSecond;
    if (limit === 0) return undefined;
    const now = performance.now();
    while (this.window.length > 0 && now - this.window[0]! >= 1000) this.window.shift();
    if (this.window.length >= limit) return Math.max(1, Math.ceil(1000 - (now - this.window[0]!)));
    this.window.push(now);
    return undefined;
  }
}

// A caller awaits every vendor call, so the timer stays ref'd: it is the work in progress.
function delay(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
