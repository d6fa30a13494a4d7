import { describe, expect, it } from 'vitest';
import { deviceProgress, formatAge, formatBytes, formatEta, formatRate, percent, upstreamTarget, type FlushProgressEvent } from './transfer-format';

const event = (stream: string, over: Partial<FlushProgressEvent> = {}): FlushProgressEvent => ({ deviceId: 'd', stream, bytesDone: 0, bytesTotal: 0, rate: 0, etaSeconds: null, ...over });

describe('transfer formatting', () => {
  it('formats bytes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(250 * 1024 * 1024)).toBe('250 MiB');
    expect(formatBytes(-1)).toBe('—');
  });

  it('formats rates, with a dash before any byte moved', () => {
    expect(formatRate(0)).toBe('—');
    expect(formatRate(2048)).toBe('2.0 KiB/s');
  });

  it('formats ETAs from seconds to hours', () => {
    expect(formatEta(null)).toBe('—');
    expect(formatEta(0)).toBe('done');
    expect(formatEta(4.2)).toBe('5 s');
    expect(formatEta(75)).toBe('1 min 15 s');
    expect(formatEta(3900)).toBe('1 h 05 min');
  });

  it('clamps percentages', () => {
    expect(percent(5, 10)).toBe(50);
    expect(percent(0, 0)).toBe(0);
    expect(percent(12, 10)).toBe(100);
  });

  it('sums a device’s streams, taking the device-wide rate once and the slowest ETA', () => {
    const total = deviceProgress([
      event('a', { bytesDone: 100, bytesTotal: 400, rate: 50, etaSeconds: 6 }),
      event('b', { bytesDone: 300, bytesTotal: 300, rate: 50, etaSeconds: 0 }),
    ]);
    expect(total).toEqual({ bytesDone: 400, bytesTotal: 700, rate: 50, etaSeconds: 6 });
    expect(deviceProgress([event('a', { etaSeconds: 3 }), event('b', { etaSeconds: null })]).etaSeconds).toBeNull();
  });

  it('gives the age of the oldest segment', () => {
    const now = new Date('2026-01-02T12:00:00Z');
    expect(formatAge(null, now)).toBe('—');
    expect(formatAge('2026-01-02T11:59:30Z', now)).toBe('under a minute');
    expect(formatAge('2026-01-02T10:50:00Z', now)).toBe('1 h 10 min');
    expect(formatAge('2025-12-30T12:00:00Z', now)).toBe('3 days');
  });

  it('picks the upstream protocol from the URL', () => {
    expect(upstreamTarget(' https://ingest.site/api ')).toEqual({ http: { url: 'https://ingest.site/api' } });
    expect(upstreamTarget('mqtts://broker:8883')).toEqual({ mqtt: { url: 'mqtts://broker:8883' } });
    expect(upstreamTarget('broker:1883')).toHaveProperty('error');
  });
});
