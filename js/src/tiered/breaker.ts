// js/src/tiered/breaker.ts: a circuit breaker in front of a tier that can fail (L2, the bus).
//
// closed    calls go through; `failureThreshold` failures in a row open the breaker.
// open      calls are refused at once (the caller falls back to L1 or the loader) for
//           `openMs`; then the breaker lets exactly one probe call through (half-open).
// half-open the probe's success closes the breaker, its failure opens it again.
// Invariants: only failures the tier reports as its own (isFailure) count -- a caller's bad
// argument never opens the breaker; the state changes are counted so tests and metrics can
// show the breaker opened and closed.

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  failureThreshold?: number;
  openMs?: number;
  now?: () => number;
  isFailure?: (error: unknown) => boolean;
  onStateChange?: (state: BreakerState) => void;
}

export class BreakerOpenError extends Error {
  readonly code = 'l2_unavailable';
  constructor(what: string) {
    super(`${what}: circuit breaker open`);
    this.name = 'BreakerOpenError';
  }
}

export class CircuitBreaker {
  private stateValue: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  opened = 0;
  closed = 0;
  private readonly failureThreshold: number;
  private readonly openMs: number;
  private readonly now: () => number;
  private readonly isFailure: (error: unknown) => boolean;

  constructor(
    private readonly what: string,
    private readonly options: BreakerOptions = {},
  ) {
    this.failureThreshold = options.failureThreshold ?? 5;
    this.openMs = options.openMs ?? 1000;
    this.now = options.now ?? Date.now;
    this.isFailure = options.isFailure ?? (() => true);
  }

  get state(): BreakerState {
    return this.stateValue;
  }

  /** Runs `call` unless the breaker is open; refused calls reject with BreakerOpenError. */
  run<T>(call: () => Promise<T>): Promise<T> {
    if (!this.admit()) return Promise.reject(new BreakerOpenError(this.what));
    let pending: Promise<T>;
    try {
      pending = call();
    } catch (error) {
      this.failed(error);
      return Promise.reject(error);
    }
    // then(), not async/await: this sits on the L2 hit's latency path.
    return pending.then(
      (result) => {
        this.succeeded();
        return result;
      },
      (error: unknown) => {
        this.failed(error);
        throw error;
      },
    );
  }

  private admit(): boolean {
    if (this.stateValue === 'closed') return true;
    if (this.stateValue === 'open' && this.now() - this.openedAt >= this.openMs) this.setState('half-open');
    if (this.stateValue === 'half-open' && !this.probing) {
      this.probing = true;
      return true;
    }
    return false;
  }

  private succeeded(): void {
    this.failures = 0;
    if (this.stateValue !== 'closed') {
      this.probing = false;
      this.setState('closed');
    }
  }

  private failed(error: unknown): void {
    if (!this.isFailure(error)) {
      if (this.stateValue === 'half-open') this.probing = false;
      return;
    }
    this.failures++;
    if (this.stateValue === 'half-open' || this.failures >= this.failureThreshold) {
      this.probing = false;
      this.openedAt = this.now();
      if (this.stateValue !== 'open') this.setState('open');
    }
  }

  private setState(state: BreakerState): void {
    this.stateValue = state;
    if (state === 'open') this.opened++;
    if (state === 'closed') this.closed++;
    this.options.onStateChange?.(state);
  }
}
