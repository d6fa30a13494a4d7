import { describe, expect, it } from 'vitest';
import type { Device } from '../../../../shared/contract';
import { testDevice } from '../../store/scripted-api';
import { filterDevices, formatTags, NO_FILTER, parsePorts, parseTags, scanPercent, tagOptions, toBrowseArgs, toScanArgs } from './device-filters';

const inventory = [
  testDevice('gw', { sources: ['mdns', 'sweep'], state: 'online', tags: { site: 'north' }, addresses: ['10.0.0.10'] }),
  testDevice('edge', { sources: ['sweep'], state: 'stale', tags: { site: 'south', role: 'pump' }, addresses: ['10.0.0.11'] }),
  testDevice('console', { sources: ['serial'], serialPath: '/dev/ttyUSB0' }),
];
const names = (list: Device[]) => list.map((d) => d.name);

describe('device filters', () => {
  it('keeps everything with no filter', () => {
    expect(names(filterDevices(inventory, NO_FILTER))).toEqual(['gw', 'edge', 'console']);
  });

  it('filters by any of the chosen sources, by state and by tag, together with the search', () => {
    expect(names(filterDevices(inventory, { ...NO_FILTER, sources: ['sweep'] }))).toEqual(['gw', 'edge']);
    expect(names(filterDevices(inventory, { ...NO_FILTER, sources: ['mdns', 'serial'] }))).toEqual(['gw', 'console']);
    expect(names(filterDevices(inventory, { ...NO_FILTER, states: ['stale'] }))).toEqual(['edge']);
    expect(names(filterDevices(inventory, { ...NO_FILTER, tag: 'site=north' }))).toEqual(['gw']);
    expect(names(filterDevices(inventory, { ...NO_FILTER, sources: ['sweep'], search: '10.0.0.11' }))).toEqual(['edge']);
  });

  it('lists the tags present as key=value, sorted and unique', () => {
    expect(tagOptions([...inventory, testDevice('x', { tags: { site: 'north' } })])).toEqual(['role=pump', 'site=north', 'site=south']);
  });
});

describe('tags text', () => {
  it('parses key=value lists and round-trips', () => {
    expect(parseTags(' site = north , role=gateway,\n')).toEqual({ tags: { site: 'north', role: 'gateway' } });
    expect(formatTags({ site: 'north', role: 'gateway' })).toBe('site=north, role=gateway');
    expect(parseTags('')).toEqual({ tags: {} });
  });

  it('refuses a bare word or an odd tag name instead of dropping it', () => {
    expect(parseTags('north')).toEqual({ error: '“north” is not key=value' });
    expect(parseTags('my site=north')).toMatchObject({ error: expect.stringContaining('my site') });
  });
});

describe('scan form', () => {
  it('expands port ranges and drops duplicates', () => {
    expect(parsePorts(['22', '8000-8002', '22'])).toEqual({ ports: [22, 8000, 8001, 8002] });
  });

  it('refuses bad ports and more than the core allows', () => {
    expect(parsePorts(['0'])).toHaveProperty('error');
    expect(parsePorts(['70000'])).toHaveProperty('error');
    expect(parsePorts(['ssh'])).toHaveProperty('error');
    expect(parsePorts(['9-3'])).toHaveProperty('error');
    expect(parsePorts(['1-100'])).toEqual({ error: '100 ports: a scan probes at most 64' });
  });

  it('builds discovery:scan arguments, leaving empty lists to the core defaults', () => {
    expect(toScanArgs({ interfaces: [], cidrs: [], ports: [], mdns: true, sweep: true, serial: false })).toEqual({ args: { mdns: true, sweep: true, serial: false } });
    expect(toScanArgs({ interfaces: ['lab0 '], cidrs: ['10.213.0.0/24'], ports: ['22'], mdns: false, sweep: true, serial: false })).toEqual({
      args: { mdns: false, sweep: true, serial: false, interfaces: ['lab0'], cidrs: ['10.213.0.0/24'], ports: [22] },
    });
    expect(toScanArgs({ interfaces: [], cidrs: [], ports: [], mdns: false, sweep: false, serial: false })).toHaveProperty('error');
    expect(toScanArgs({ interfaces: [], cidrs: [], ports: ['x'], mdns: true, sweep: true, serial: false })).toHaveProperty('error');
  });

  it('turns progress into a bar value without NaN', () => {
    expect(scanPercent(null)).toBe(0);
    expect(scanPercent({ done: 0, total: 0 })).toBe(0);
    expect(scanPercent({ done: 64, total: 256 })).toBe(25);
    expect(scanPercent({ done: 300, total: 256 })).toBe(100);
  });
  it('turns the scan form into live-discovery settings: the same interfaces, subnets and ports, re-swept each minute', () => {
    const form = { interfaces: ['lab0'], cidrs: ['10.213.0.0/24'], ports: ['22', '1883'], mdns: false, sweep: true, serial: false };
    expect(toBrowseArgs(form)).toEqual({ args: { interfaces: ['lab0'], cidrs: ['10.213.0.0/24'], ports: [22, 1883], sweepIntervalMs: 60_000 } });
    expect(toBrowseArgs({ ...form, sweep: false })).toEqual({ args: { interfaces: ['lab0'] } });
    expect(toBrowseArgs({ ...form, ports: ['ssh'] })).toHaveProperty('error');
  });
});
