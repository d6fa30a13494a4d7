import { describe, expect, it } from 'vitest';
import { bootstrapDifference, seededRandom } from './bootstrap';

const noisy = (n: number, centre: number, spread: number, seed: number) => {
  const rnd = seededRandom(seed);
  return Float64Array.from({ length: n }, () => centre + (rnd() - 0.5) * spread);
};

describe('bootstrapDifference', () => {
  it('finds a real 5 ms shift and its interval excludes 0', () => {
    const d = bootstrapDifference(noisy(400, 10, 2, 1), noisy(400, 15, 2, 2), 0.5);
    expect(d.value).toBeGreaterThan(4.5);
    expect(d.value).toBeLessThan(5.5);
    expect(d.ci95[0]).toBeGreaterThan(0);
    expect(d.ci95[0]).toBeLessThanOrEqual(d.value);
    expect(d.ci95[1]).toBeGreaterThanOrEqual(d.value);
  });
  it('gives an interval around 0 for two draws of the same distribution', () => {
    const d = bootstrapDifference(noisy(300, 10, 4, 3), noisy(300, 10, 4, 4), 0.95);
    expect(d.ci95[0]).toBeLessThan(0);
    expect(d.ci95[1]).toBeGreaterThan(0);
  });
  it('is deterministic for a seed, and refuses an empty variant', () => {
    const a = noisy(50, 3, 1, 5);
    const b = noisy(50, 4, 1, 6);
    expect(bootstrapDifference(a, b, 0.5, 500, 9)).toEqual(bootstrapDifference(a, b, 0.5, 500, 9));
    expect(() => bootstrapDifference(new Float64Array(), b, 0.5)).toThrow(/answered/);
  });
});
