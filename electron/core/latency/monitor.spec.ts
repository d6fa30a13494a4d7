import { describe, expect, it } from 'vitest';
import type { SampleBatch } from '../../../shared/contract/latency';
import { MAX_IN_FLIGHT_PER_SERIES, Monitor, thresholdState } from './monitor';
import type { Probe, ProbeResult } from './probes';

const spec = { deviceId: 'd', deviceName: 'gw', target: 'tcp:1', onDevice: false, intervalMs: 50, timeoutMs: 1000, thresholds: { p95Ms: null, lossPct: null } };
const until = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error(`never: ${what}`);
};

/** A probe whose answers the spec hands out by hand, in any order. */
function manualProbe() {
  const calls: Array<{ resolve(r: ProbeResult): void; reject(e: Error): void }> = [];
  let closed = false;
  const probe: Probe = { method: 'manual', run: () => new Promise((resolve, reject) => calls.push({ resolve, reject })), close: () => void (closed = true) };
  return { probe, calls, closed: () => closed };
}

describe('Monitor', () => {
  it('keeps samples in send order when answers arrive out of order; a failure is a gap (NaN), never 0', async () => {
    const batches: SampleBatch[] = [];
    const m = new Monitor({ samples: (b) => batches.push(b), threshold: () => undefined }, 100);
    const { probe, calls } = manualProbe();
    const s = m.start(spec, probe);
    await until(() => calls.length >= 3, 'three probes sent');
    const stopped = m.stop(s.id);
    const extra = calls.slice(3);
    for (const c of extra) c.resolve({ ms: 4 });
    calls[2]?.resolve({ ms: 3 });
    calls[1]?.reject(new Error('refused'));
    expect(s.buffer.length).toBe(0); // the first is still out: later answers wait behind it
    calls[0]?.resolve({ ms: 1 });
    await stopped;
    expect([...s.buffer.view().values]).toEqual([1, NaN, 3, ...extra.map(() => 4)]);
    const t = [...s.buffer.view().times];
    expect(t[0]! < t[1]! && t[1]! < t[2]!).toBe(true);
    m.flush();
    expect(batches.at(-1)?.series[0]?.v).toEqual([1, null, 3, ...extra.map(() => 4)]);
    await m.close();
  });

  it('caps probes in flight for a target that never answers, and closes the probe only once they settled', async () => {
    const m = new Monitor({ samples: () => undefined, threshold: () => undefined }, 100);
    const { probe, calls, closed } = manualProbe();
    const s = m.start({ ...spec, intervalMs: 50 }, probe);
    await until(() => s.skipped >= 3, 'ticks skipped at the cap');
    expect(calls.length).toBe(MAX_IN_FLIGHT_PER_SERIES);
    const stopped = m.stop(s.id);
    expect(closed()).toBe(false);
    for (const c of calls) c.reject(new Error('timeout'));
    await stopped;
    expect(closed()).toBe(true);
    expect(s.buffer.length).toBe(MAX_IN_FLIGHT_PER_SERIES);
    await m.close();
  });

  it('judges thresholds on the window: loss before p95, no data without samples', () => {
    const base = { count: 10, lost: 0, lossPct: 0, min: 1, p50: 2, p95: 9, p99: 9, max: 9, mean: 3, jitter: 1 };
    expect(thresholdState(base, { p95Ms: 5, lossPct: null })).toBe('p95');
    expect(thresholdState({ ...base, lost: 3, lossPct: 30 }, { p95Ms: 5, lossPct: 10 })).toBe('loss');
    expect(thresholdState(base, { p95Ms: 10, lossPct: 10 })).toBe('ok');
    expect(thresholdState({ ...base, count: 0 }, { p95Ms: 10, lossPct: 10 })).toBe('no-data');
  });
});
