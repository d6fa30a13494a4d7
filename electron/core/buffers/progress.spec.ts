import { describe, expect, it } from 'vitest';
import { JobFlushProgress } from './progress';

describe('JobFlushProgress', () => {
  it('reports the bytes of every device of a flush to its job, throttled, and always at the end', () => {
    const reports: Array<[number, number]> = [];
    const events: unknown[] = [];
    const sum = new JobFlushProgress({ emit: (_c: string, p: unknown) => events.push(p) } as never, (done, total) => reports.push([done, total]));
    const a = sum.forDevice('a');
    const b = sum.forDevice('b');
    a.addTotal('telemetry', 1000);
    b.addTotal('logs', 500);
    for (let i = 0; i < 100; i++) a.advance('telemetry', 10);
    b.advance('logs', 500);
    // Many changes within 250 ms: only the first is reported so far.
    expect(reports.length).toBeLessThan(10); // 103 changes
    a.finish();
    b.finish();
    expect(reports.at(-1)).toEqual([1500, 1500]);
    // Per-device flush:progress events still go out as before.
    expect(events.length).toBeGreaterThan(0);
  });
});
