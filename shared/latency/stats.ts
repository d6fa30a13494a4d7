/**
 * Latency statistics over samples in time order. A lost sample (timeout, refused, error) is NaN: it counts
 * towards loss and is never a latency of 0.
 */
export interface LatencySummary {
  /** Probes sent (answered + lost). */
  count: number;
  lost: number;
  lossPct: number;
  /** Milliseconds; null when nothing answered. */
  min: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
  /** Mean absolute difference between consecutive answered samples, in time order (RFC 3550's idea, unsmoothed). */
  jitter: number | null;
}

/** Nearest-rank percentile of ascending `sorted`: index ceil(p·n)−1, clamped; null for n = 0. */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  const rank = Math.ceil(p * n) - 1;
  return sorted[Math.min(n - 1, Math.max(0, rank))] as number;
}

/** Summary of `values` (time order, NaN = lost); `from`/`to` bound a window of the array without copying it. */
export function summarize(values: ArrayLike<number>, from = 0, to = values.length): LatencySummary {
  const answered = new Float64Array(Math.max(0, to - from));
  let n = 0;
  let sum = 0;
  let jitterSum = 0;
  let jitterN = 0;
  let previous = NaN;
  for (let i = from; i < to; i++) {
    const v = values[i] as number;
    if (Number.isNaN(v)) continue;
    answered[n++] = v;
    sum += v;
    if (!Number.isNaN(previous)) {
      jitterSum += Math.abs(v - previous);
      jitterN++;
    }
    previous = v;
  }
  const count = Math.max(0, to - from);
  const sorted = answered.subarray(0, n).sort();
  return {
    count,
    lost: count - n,
    lossPct: count === 0 ? 0 : ((count - n) / count) * 100,
    min: n ? (sorted[0] as number) : null,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: n ? (sorted[n - 1] as number) : null,
    mean: n ? sum / n : null,
    jitter: jitterN ? jitterSum / jitterN : null,
  };
}

/** Rounds every figure for display and JSON (microsecond precision is all a probe honestly has). */
export function roundSummary(s: LatencySummary, digits = 3): LatencySummary {
  const r = (v: number | null) => (v === null ? null : Number(v.toFixed(digits)));
  return { ...s, lossPct: Number(s.lossPct.toFixed(2)), min: r(s.min), p50: r(s.p50), p95: r(s.p95), p99: r(s.p99), max: r(s.max), mean: r(s.mean), jitter: r(s.jitter) };
}
