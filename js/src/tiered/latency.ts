// js/src/tiered/latency.ts: latency of one tier's calls as a log-bucketed histogram, so mean,
// p50 and p99 come out in O(buckets) memory however many calls were timed.
//
// Invariants: buckets grow by 2^(1/8) (~9 %), so a reported percentile is within ~9 % of the
// true one; values are in milliseconds, from 1 µs to ~70 minutes; anything outside is clamped
// into the first or last bucket (and still counted in the mean exactly).

const STEPS_PER_DOUBLING = 8;
const MIN_MS = 0.001;
const BUCKETS = STEPS_PER_DOUBLING * 32;

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private count = 0;
  private totalMs = 0;

  record(ms: number): void {
    if (!(ms >= 0)) return; // NaN or a clock that stepped back: not a latency
    const index = ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log2(ms / MIN_MS) * STEPS_PER_DOUBLING));
    this.counts[index]!++;
    this.count++;
    this.totalMs += ms;
  }

  /** The upper edge of the bucket holding the q-quantile (q in [0, 1]); 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return MIN_MS * 2 ** ((i + 1) / STEPS_PER_DOUBLING);
    }
    return MIN_MS * 2 ** (BUCKETS / STEPS_PER_DOUBLING);
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      meanMs: this.count === 0 ? 0 : this.totalMs / this.count,
      p50Ms: this.quantile(0.5),
      p99Ms: this.quantile(0.99),
    };
  }
}
