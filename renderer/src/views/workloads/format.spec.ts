import { describe, expect, it } from 'vitest';
import { etaSeconds, formatBytes, formatDuration, progressLabel, progressPercent, shortId, stateColor } from './format';
import { addSample, EMPTY_SERIES } from './stats-series';

describe('workloads formatting', () => {
  it('formats sizes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(12.5 * 1024 * 1024)).toBe('12.5 MiB');
    expect(formatBytes(300 * 1024 ** 3)).toBe('300 GiB');
    expect(formatBytes(-1)).toBe('—');
  });

  it('formats durations with two units at most', () => {
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(245)).toBe('4 min 05 s');
    expect(formatDuration(3 * 3600 + 12 * 60 + 9)).toBe('3 h 12 min');
    expect(formatDuration(2 * 86400 + 4 * 3600)).toBe('2 d 4 h');
    expect(formatDuration(null)).toBe('—');
  });

  it('computes progress and ETA, falling back to the rate when the core gave none', () => {
    expect(progressPercent({ bytesSent: 25, bytesTotal: 100 })).toBe(25);
    expect(progressPercent({ bytesSent: 0, bytesTotal: 0 })).toBe(0);
    expect(progressPercent({ bytesSent: 200, bytesTotal: 100 })).toBe(100);
    expect(etaSeconds({ bytesSent: 40, bytesTotal: 100, bytesPerSecond: 20, etaSeconds: null })).toBe(3);
    expect(etaSeconds({ bytesSent: 40, bytesTotal: 100, bytesPerSecond: 0, etaSeconds: null })).toBeNull();
    expect(etaSeconds({ bytesSent: 40, bytesTotal: 100, bytesPerSecond: 20, etaSeconds: 9 })).toBe(9);
    expect(progressLabel({ bytesSent: 1024 * 1024, bytesTotal: 4 * 1024 * 1024, bytesPerSecond: 512 * 1024, etaSeconds: null })).toBe(
      '1.0 MiB of 4.0 MiB · 512 KiB/s · 6 s left',
    );
  });

  it('shortens image ids and colours states', () => {
    expect(shortId('sha256:0123456789abcdef0123')).toBe('0123456789ab');
    expect(stateColor('running', null)).toBe('teal');
    expect(stateColor('running', 'unhealthy')).toBe('red');
    expect(stateColor('exited', null)).toBe('gray');
  });
});

describe('stats series', () => {
  const sample = (rx: number, tx: number) => ({ cpuPercent: 5, memoryBytes: 1000, memoryLimitBytes: 4000, networkRxBytes: rx, networkTxBytes: tx });

  it('turns network counters into rates and reads a counter reset as zero', () => {
    let s = addSample(EMPTY_SERIES, sample(1000, 500), 10_000);
    s = addSample(s, sample(3000, 1500), 12_000);
    s = addSample(s, sample(100, 100), 13_000);
    expect(s.time).toEqual([10, 12, 13]);
    expect(s.rxRate).toEqual([0, 1000, 0]);
    expect(s.txRate).toEqual([0, 500, 0]);
    expect(s.memoryLimitBytes).toBe(4000);
  });

  it('keeps a bounded window of points', () => {
    let s = EMPTY_SERIES;
    for (let i = 0; i < 10; i++) s = addSample(s, sample(i, i), i * 1000, 4);
    expect(s.time).toEqual([6, 7, 8, 9]);
    expect(s.cpu).toHaveLength(4);
  });
});
