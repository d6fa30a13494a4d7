/**
 * Sample times: epoch milliseconds read from the monotonic high-resolution clock (`performance.timeOrigin` is
 * fixed at process start), so a wall-clock step (NTP, a technician fixing a 1970 clock) never reorders samples.
 */
export function monotonicEpochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Milliseconds since `t0` from `process.hrtime.bigint()` (nanoseconds). */
export function elapsedMs(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
