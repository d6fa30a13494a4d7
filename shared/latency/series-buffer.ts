/**
 * A fixed-capacity time series that always exposes its samples as one contiguous view, without copying:
 * gping's FixedRingBuffer layout — arrays of 2× capacity, appended to until the end, then the newest `capacity`
 * samples are moved to the front once (amortised O(1) per sample). Times are epoch milliseconds from a monotonic
 * clock; a lost sample is NaN.
 */
export class SeriesBuffer {
  readonly times: Float64Array;
  readonly values: Float64Array;
  private start = 0;
  private end = 0;
  /** Every sample ever pushed, including those the ring has since dropped. */
  total = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.times = new Float64Array(capacity * 2);
    this.values = new Float64Array(capacity * 2);
  }

  get length(): number {
    return this.end - this.start;
  }

  push(time: number, value: number): void {
    if (this.end === this.times.length) {
      const keep = this.capacity - 1;
      this.times.copyWithin(0, this.end - keep, this.end);
      this.values.copyWithin(0, this.end - keep, this.end);
      this.start = 0;
      this.end = keep;
    } else if (this.end - this.start === this.capacity) {
      this.start++;
    }
    this.times[this.end] = time;
    this.values[this.end] = value;
    this.end++;
    this.total++;
  }

  /** The samples in time order, as views into the buffers (valid until the next push). */
  view(): { times: Float64Array; values: Float64Array } {
    return { times: this.times.subarray(this.start, this.end), values: this.values.subarray(this.start, this.end) };
  }

  /** Index (into view()) of the first sample at or after `time`; binary search, times are ascending. */
  indexAtOrAfter(time: number): number {
    let lo = this.start;
    let hi = this.end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.times[mid] as number) < time) lo = mid + 1;
      else hi = mid;
    }
    return lo - this.start;
  }

  lastTime(): number | null {
    return this.length ? (this.times[this.end - 1] as number) : null;
  }

  clear(): void {
    this.start = 0;
    this.end = 0;
  }
}

/** One hour at 20 Hz (the 50 ms floor), as the live view promises. */
export const HOUR_AT_20HZ = 3600 * 20;
