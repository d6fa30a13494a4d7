import { describe, expect, it } from 'vitest';
import { formatTable } from './format';

describe('formatTable', () => {
  it('prints ours, anchor and their ratio per row', () => {
    const out = formatTable([{ metric: 'docker /_ping', ours: 3, anchor: 300, unit: 'ms', anchorName: 'dockerode ssh' }]);
    expect(out.split('\n')[0]).toMatch(/\| metric\s+\| ours\s+\| anchor\s+\| ratio\s+\| note/);
    expect(out).toContain('0.010x = 1/100');
    expect(formatTable([{ metric: 'm', ours: 0.55, anchor: 118, unit: 'ms', anchorName: 'a' }])).toContain('0.0047x = 1/215');
    expect(formatTable([{ metric: 'm', ours: 222, anchor: 542, unit: 'MB/s', anchorName: 'a' }])).toContain('0.41x');
    expect(out).toContain('300 ms (dockerode ssh)');
  });
});
