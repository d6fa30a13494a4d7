import { describe, expect, it } from 'vitest';
import type { Device } from '../../../../shared/contract';
import { deviceMatches, relativeTime, toDeviceAdd } from './device-format';

const device: Device = {
  id: 'd1',
  name: 'pump-gateway',
  hostnames: ['pump.local'],
  addresses: ['10.0.4.17'],
  macs: ['b8:27:eb:00:11:22'],
  sources: ['manual'],
  services: [],
  ssh: { port: 22, user: 'pi' },
  docker: null,
  serialPath: '/dev/ttyUSB0',
  tags: { site: 'north-field' },
  notes: '',
  state: 'unknown',
  firstSeen: '2026-01-01T00:00:00.000Z',
  lastSeen: '2026-01-01T00:00:00.000Z',
};

describe('toDeviceAdd', () => {
  it('sends a host for names and IPs and a serial path for device paths', () => {
    expect(toDeviceAdd(' pump ', ' 10.0.4.17 ')).toEqual({ name: 'pump', host: '10.0.4.17' });
    expect(toDeviceAdd('', 'gw.local')).toEqual({ host: 'gw.local' });
    expect(toDeviceAdd('plc', '/dev/ttyUSB1')).toEqual({ name: 'plc', serialPath: '/dev/ttyUSB1' });
    expect(toDeviceAdd('', 'com4')).toEqual({ serialPath: 'com4' });
  });
});

describe('deviceMatches', () => {
  it('finds a device by name, address, hostname, MAC, serial path or tag, ignoring case', () => {
    for (const q of ['PUMP-gate', '10.0.4', 'pump.local', 'B8:27', 'ttyUSB', 'north']) expect(deviceMatches(device, q)).toBe(true);
    expect(deviceMatches(device, 'jetson')).toBe(false);
    expect(deviceMatches(device, '  ')).toBe(true);
  });
});

describe('relativeTime', () => {
  const now = new Date('2026-01-02T00:00:00.000Z');
  it('says how long ago, in the largest whole unit', () => {
    expect(relativeTime('2026-01-01T23:59:30.000Z', now)).toBe('just now');
    expect(relativeTime('2026-01-01T23:55:00.000Z', now)).toBe('5 minutes ago');
    expect(relativeTime('2026-01-01T21:00:00.000Z', now)).toBe('3 hours ago');
    expect(relativeTime('2025-12-31T00:00:00.000Z', now)).toBe('2 days ago');
    expect(relativeTime('garbage', now)).toBe('—');
  });
});
