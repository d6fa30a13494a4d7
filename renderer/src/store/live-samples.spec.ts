import { describe, expect, it } from 'vitest';
import { LiveSamples } from './live-samples';

describe('LiveSamples', () => {
  it('merges history fetched after live batches arrived, without duplicates, and plots losses as gaps', () => {
    const live = new LiveSamples(100);
    live.apply({ series: [{ id: 's', t: [40, 50], v: [4, null] }] });
    expect(live.hasHistory('s')).toBe(false);
    live.load({ seriesId: 's', t: [10, 20, 30, 40], v: [1, null, 3, 4] });
    live.apply({ series: [{ id: 's', t: [50, 60], v: [null, 6] }] });
    const [x, y] = live.plotData('s') ?? [[], []];
    expect(Array.from(x)).toEqual([10, 20, 30, 40, 50, 60]);
    expect(y).toEqual([1, null, 3, 4, null, 6]);
    expect(live.hasHistory('s')).toBe(true);
  });
});
