import { percentile } from '../../../shared/latency/stats';

/** A small seeded PRNG (mulberry32): the same samples give the same interval, run after run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function resample(xs: Float64Array, rnd: () => number, out: Float64Array): Float64Array {
  for (let i = 0; i < out.length; i++) out[i] = xs[Math.floor(rnd() * xs.length)] as number;
  return out.sort();
}

export interface BootstrapDifference {
  value: number;
  ci95: [number, number];
}

/**
 * Difference B − A of a statistic (a percentile p) with a 95 % percentile-bootstrap interval: each round resamples
 * both variants with replacement and takes the difference of the statistic. Lost samples are not latencies and
 * must be left out by the caller.
 */
export function bootstrapDifference(a: Float64Array, b: Float64Array, p: number, resamples = 2000, seed = 1): BootstrapDifference {
  if (a.length === 0 || b.length === 0) throw new Error('both variants need answered samples');
  const sa = Float64Array.from(a).sort();
  const sb = Float64Array.from(b).sort();
  const value = (percentile(sb, p) as number) - (percentile(sa, p) as number);
  const rnd = seededRandom(seed);
  const ra = new Float64Array(a.length);
  const rb = new Float64Array(b.length);
  const diffs = new Float64Array(resamples);
  for (let i = 0; i < resamples; i++) diffs[i] = (percentile(resample(b, rnd, rb), p) as number) - (percentile(resample(a, rnd, ra), p) as number);
  diffs.sort();
  return { value, ci95: [percentile(diffs, 0.025) as number, percentile(diffs, 0.975) as number] };
}
