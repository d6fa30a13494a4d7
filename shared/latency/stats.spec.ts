import { describe, expect, it } from 'vitest';
import { SeriesBuffer } from './series-buffer';
import { percentile, summarize } from './stats';
import { formatTarget, parseTarget } from './targets';

describe('percentile (nearest rank, ceil(p·n)−1)', () => {
  it('is null for no samples', () => {
    expect(percentile([], 0.95)).toBeNull();
  });
  it('is the only sample for n = 1', () => {
    expect(percentile([7], 0.5)).toBe(7);
    expect(percentile([7], 0.95)).toBe(7);
    expect(percentile([7], 0.99)).toBe(7);
  });
  it('stays inside the array for n = 10 (gping’s round(0.95·n) ran past the end)', () => {
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(ten, 0.5)).toBe(5);
    expect(percentile(ten, 0.95)).toBe(10);
    expect(percentile(ten, 0.99)).toBe(10);
    expect(percentile(ten, 0.9)).toBe(9);
  });
});

describe('summarize', () => {
  it('counts a lost sample as loss, never as 0 ms', () => {
    const s = summarize([10, NaN, 12, NaN]);
    expect(s).toMatchObject({ count: 4, lost: 2, lossPct: 50, min: 10, max: 12, p50: 10 });
  });
  it('computes jitter between consecutive samples in time order, not after sorting', () => {
    // Sorted, neighbours differ by 1 ms; in time order they jump by 9, 8, 7 ms.
    const s = summarize([1, 10, 2, 9]);
    expect(s.jitter).toBeCloseTo((9 + 8 + 7) / 3);
  });
  it('reports nothing but the count for an all-lost window', () => {
    expect(summarize([NaN, NaN])).toMatchObject({ count: 2, lossPct: 100, p50: null, jitter: null, max: null });
    expect(summarize([])).toMatchObject({ count: 0, lossPct: 0, p95: null });
  });
});

describe('SeriesBuffer (2× capacity, one contiguous view)', () => {
  it('keeps the newest `capacity` samples in order across the move to the front', () => {
    const b = new SeriesBuffer(4);
    for (let i = 1; i <= 11; i++) b.push(i * 100, i);
    expect(b.length).toBe(4);
    expect([...b.view().values]).toEqual([8, 9, 10, 11]);
    expect([...b.view().times]).toEqual([800, 900, 1000, 1100]);
    expect(b.total).toBe(11);
    expect(b.indexAtOrAfter(950)).toBe(2);
    expect(b.lastTime()).toBe(1100);
  });
  it('views share memory with the buffer (no copy)', () => {
    const b = new SeriesBuffer(3);
    b.push(1, 1);
    expect(b.view().values.buffer).toBe(b.values.buffer);
  });
});

describe('targets', () => {
  it.each([
    ['tcp:8080', { kind: 'tcp', port: 8080 }],
    ['tcp:10.0.0.5:22', { kind: 'tcp', host: '10.0.0.5', port: 22 }],
    ['ssh', { kind: 'ssh' }],
    ['docker', { kind: 'docker' }],
    ['http:8080/healthz', { kind: 'http', tls: false, port: 8080, path: '/healthz' }],
    ['http:https://gw.local/x?y=1', { kind: 'http', tls: true, host: 'gw.local', port: 443, path: '/x?y=1' }],
    ['http://10.0.0.5:81/', { kind: 'http', tls: false, host: '10.0.0.5', port: 81, path: '/' }],
    ['mqtt', { kind: 'mqtt', tls: false, port: 1883 }],
    ['mqtt:mqtt://127.0.0.1:18830', { kind: 'mqtt', tls: false, host: '127.0.0.1', port: 18830 }],
    ['icmp', { kind: 'icmp' }],
    ['icmp:10.0.0.9', { kind: 'icmp', host: '10.0.0.9' }],
  ])('parses %s and formats it back to a form that parses the same', (spec, parsed) => {
    expect(parseTarget(spec)).toEqual(parsed);
    expect(parseTarget(formatTarget(parseTarget(spec)))).toEqual(parsed);
  });
  it.each(['tcp', 'tcp:99999', 'tcp:a b:22', 'ssh:foo', 'gopher:1', 'http:x', 'http://u:p@h/', 'icmp:;rm -rf'])('refuses %s with a reason', (spec) => {
    expect(() => parseTarget(spec)).toThrow(/target|port|host|probe/);
  });
});
