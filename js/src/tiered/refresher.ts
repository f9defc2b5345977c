// js/src/tiered/refresher.ts: reloads hot keys before they expire, on an interval (every 5
// minutes by default, with jitter), so readers of hot keys rarely see a miss or a stale value.
//
// Which keys: those read since the last run (hot) whose loader the cache knows (they were
// loaded through getOrSet) and whose fresh time runs out before the next run (near expiry).
// Each reload retries with exponential back-off; a run reports how many values changed -- an
// unchanged value keeps its version (a hash of its bytes), so its ETag stays.
//
// Invariants: one run at a time (a run still going when the timer fires skips that tick); the
// timer is unref'd (a refresher never keeps a process alive) and stop() clears it; a failing
// reload never throws out of a run: it is counted and reported.

import { TickcacheError } from '../errors.js';

export interface RefresherOptions {
  /** Between runs, ms. Default 5 minutes. */
  intervalMs?: number;
  /** Each wait is the interval times (1 ± jitter), so instances do not run in lockstep. Default 0.1. */
  jitter?: number;
  /** Reload keys with less than this much fresh time left, ms. Default: the interval (they would expire before the next run). */
  nearExpiryMs?: number;
  /** Reloads at once. Default 4. */
  concurrency?: number;
  /** Extra attempts per key after a failure. Default 2. */
  retries?: number;
  /** First back-off between attempts, ms, doubled each time. Default 500. */
  backoffMs?: number;
  /** Called after every run. */
  onReport?: (report: RefreshReport) => void;
  random?: () => number;
}

export interface RefreshReport {
  /** Hot keys with a known loader that were looked at. */
  checked: number;
  /** Keys reloaded (near expiry). */
  refreshed: number;
  changed: number;
  unchanged: number;
  failed: number;
  /** Attempts beyond the first, over all keys. */
  retries: number;
  startedAt: number;
  durationMs: number;
}

/** What the refresher needs from the cache (TieredCache implements it). */
export interface Refreshable {
  /** Keys read since the last call, with fresh ms left (Infinity: never stale); clears the record. */
  takeHotKeys(): Array<{ key: string; freshLeftMs: number }>;
  /** Reloads a key with the loader it was loaded with; resolves to whether the value changed. */
  reload(key: string): Promise<boolean>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class Refresher {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<RefreshReport> | undefined;
  private stopped = false;
  lastReport: RefreshReport | undefined;
  runs = 0;
  private readonly intervalMs: number;
  private readonly jitter: number;
  private readonly nearExpiryMs: number;
  private readonly concurrency: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly random: () => number;

  constructor(
    private readonly cache: Refreshable,
    private readonly options: RefresherOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 5 * 60_000;
    this.jitter = options.jitter ?? 0.1;
    this.nearExpiryMs = options.nearExpiryMs ?? this.intervalMs;
    this.concurrency = options.concurrency ?? 4;
    this.retries = options.retries ?? 2;
    this.backoffMs = options.backoffMs ?? 500;
    this.random = options.random ?? Math.random;
    const positive = (name: string, value: number, allowZero = false): void => {
      if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
        throw new TickcacheError('invalid_option', `refresher ${name} must be a positive number, got ${value}`);
      }
    };
    positive('intervalMs', this.intervalMs);
    positive('nearExpiryMs', this.nearExpiryMs, true);
    positive('concurrency', this.concurrency);
    positive('retries', this.retries, true);
    positive('backoffMs', this.backoffMs, true);
    if (!(this.jitter >= 0 && this.jitter < 1)) {
      throw new TickcacheError('invalid_option', `refresher jitter must be in [0, 1), got ${this.jitter}`);
    }
  }

  /** Starts the interval (the first run after one interval). */
  start(): this {
    this.stopped = false;
    this.schedule();
    return this;
  }

  /** Stops the interval and waits for a run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One run now (also what the timer does); a run already going is shared, not doubled. */
  runOnce(): Promise<RefreshReport> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** The wait before the next run: the interval times (1 ± jitter). */
  nextDelayMs(): number {
    return Math.max(1, Math.round(this.intervalMs * (1 + this.jitter * (2 * this.random() - 1))));
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runOnce().finally(() => this.schedule());
    }, this.nextDelayMs());
    (this.timer as { unref?: () => void }).unref?.();
  }

  private async run(): Promise<RefreshReport> {
    const startedAt = Date.now();
    const started = performance.now();
    const hot = this.cache.takeHotKeys();
    const due = hot.filter((entry) => entry.freshLeftMs <= this.nearExpiryMs).map((entry) => entry.key);
    const report: RefreshReport = {
      checked: hot.length,
      refreshed: 0,
      changed: 0,
      unchanged: 0,
      failed: 0,
      retries: 0,
      startedAt,
      durationMs: 0,
    };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < due.length && !this.stopped) {
        const key = due[next++]!;
        for (let attempt = 0; ; attempt++) {
          try {
            const changed = await this.cache.reload(key);
            report.refreshed++;
            if (changed) report.changed++;
            else report.unchanged++;
            break;
          } catch {
            if (attempt >= this.retries || this.stopped) {
              report.failed++;
              break;
            }
            report.retries++;
            await sleep(this.backoffMs * 2 ** attempt);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, Math.max(1, due.length)) }, worker));
    report.durationMs = performance.now() - started;
    this.runs++;
    this.lastReport = report;
    this.options.onReport?.(report);
    return report;
  }
}
