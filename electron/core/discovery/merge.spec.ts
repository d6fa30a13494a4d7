import { blankDevice, type Device } from '../../../shared/contract';
import { describe, expect, it } from 'vitest';
import { isAutoName, markStale, matchSighting, mergeSightings, type Sighting } from './merge';

const now = new Date('2026-11-22T10:00:00.000Z');
const later = new Date('2026-11-22T11:00:00.000Z');
function ids() {
  let n = 0;
  return () => `dev-${++n}`;
}

function device(over: Partial<Device>): Device {
  return blankDevice('x', '2026-11-01T00:00:00.000Z', { sources: ['manual'], ...over });
}

const sweepSeen = (ip: string, fp?: string, mac?: string): Sighting => ({
  source: 'sweep',
  addresses: [ip],
  macs: mac ? [mac] : [],
  ssh: fp ? { banner: 'SSH-2.0-OpenSSH_9.2', hostKeyFingerprint: fp } : undefined,
  services: [{ type: '_ssh._tcp', port: 22, txt: {} }],
});
const mdnsSeen = (host: string, ip: string): Sighting => ({ source: 'mdns', hostnames: [host], addresses: [ip], services: [{ type: '_ssh._tcp', port: 22, txt: { model: 'pi4' } }] });

describe('mergeSightings', () => {
  it('creates one device per new physical device, named by hostname when there is one', () => {
    const r = mergeSightings([], [mdnsSeen('pi-1.local', '10.0.0.10'), sweepSeen('10.0.0.11', 'SHA256:b')], now, ids());
    expect(r.changed.map((d) => [d.name, d.addresses, d.state])).toEqual([
      ['pi-1', ['10.0.0.10'], 'online'],
      ['10.0.0.11', ['10.0.0.11'], 'online'],
    ]);
    expect(r.changed[0]?.firstSeen).toBe(now.toISOString());
  });

  it('joins mDNS and sweep sightings of one device in the same batch by address', () => {
    const r = mergeSightings([], [mdnsSeen('pi-1.local', '10.0.0.10'), sweepSeen('10.0.0.10', 'SHA256:a', '02:00:00:00:00:0a')], now, ids());
    expect(r.changed).toHaveLength(1);
    expect(r.changed[0]).toMatchObject({ name: 'pi-1', hostnames: ['pi-1.local'], macs: ['02:00:00:00:00:0a'], sources: ['mdns', 'sweep'], ssh: { hostKeyFingerprint: 'SHA256:a' } });
    expect(r.changed[0]?.services).toEqual([{ type: '_ssh._tcp', port: 22, txt: { model: 'pi4' } }]);
  });

  it('follows a device to a new address by its host key', () => {
    const inv = [device({ id: 'a', addresses: ['10.0.0.10'], ssh: { port: 22, user: 'pi', hostKeyFingerprint: 'SHA256:a' } })];
    const r = mergeSightings(inv, [sweepSeen('10.0.0.99', 'SHA256:a')], later, ids());
    expect(r.changed).toHaveLength(1);
    expect(r.changed[0]).toMatchObject({ id: 'a', addresses: ['10.0.0.99', '10.0.0.10'], ssh: { user: 'pi' }, lastSeen: later.toISOString() });
  });

  it('keeps two boxes flashed from one image apart: same host key, different MACs', () => {
    const r = mergeSightings([], [sweepSeen('10.0.0.10', 'SHA256:img', '02:00:00:00:00:0a'), sweepSeen('10.0.0.11', 'SHA256:img', '02:00:00:00:00:0b')], now, ids());
    expect(r.changed.map((d) => [d.id, d.addresses, d.macs])).toEqual([
      ['dev-1', ['10.0.0.10'], ['02:00:00:00:00:0a']],
      ['dev-2', ['10.0.0.11'], ['02:00:00:00:00:0b']],
    ]);
    // The next scan sees both again, in either order: still two records, each keeping its own address and MAC.
    const again = mergeSightings(r.changed, [sweepSeen('10.0.0.11', 'SHA256:img', '02:00:00:00:00:0b'), sweepSeen('10.0.0.10', 'SHA256:img', '02:00:00:00:00:0a')], later, ids());
    expect(again.removedIds).toEqual([]);
    expect(again.changed.map((d) => [d.id, d.addresses]).sort()).toEqual([
      ['dev-1', ['10.0.0.10']],
      ['dev-2', ['10.0.0.11']],
    ]);
  });

  it('takes one host key seen at two addresses at once (no MACs to tell) for two boxes', () => {
    const r = mergeSightings([], [sweepSeen('10.1.0.10', 'SHA256:img'), sweepSeen('10.1.0.11', 'SHA256:img')], now, ids());
    expect(r.changed.map((d) => d.addresses)).toEqual([['10.1.0.10'], ['10.1.0.11']]);
    // Later, a clone seen alone: the key cannot say which record it is, its address does.
    const next = mergeSightings(r.changed, [sweepSeen('10.1.0.11', 'SHA256:img')], later, ids());
    expect(next.changed.map((d) => d.id)).toEqual(['dev-2']);
  });

  it('follows a device that DHCP moved: same host key, same MAC, new address', () => {
    const inv = [device({ id: 'a', addresses: ['10.0.0.10'], macs: ['02:00:00:00:00:0a'], ssh: { port: 22, user: 'root', hostKeyFingerprint: 'SHA256:a' } })];
    // The old address lingers in the neighbour table and is swept too, answering nothing: it is not dialled again.
    const silentOld: Sighting = { source: 'sweep', addresses: ['10.0.0.10'], macs: ['02:00:00:00:00:0a'], services: [] };
    const r = mergeSightings(inv, [sweepSeen('10.0.0.42', 'SHA256:a', '02:00:00:00:00:0a'), silentOld], later, ids());
    expect(r.changed.map((d) => [d.id, d.addresses])).toEqual([['a', ['10.0.0.42', '10.0.0.10']]]);
  });

  it('does not join two machines that share a reused address but have different host keys', () => {
    const inv = [device({ id: 'a', addresses: ['10.0.0.10'], ssh: { port: 22, user: 'root', hostKeyFingerprint: 'SHA256:a' } })];
    const r = mergeSightings(inv, [sweepSeen('10.0.0.10', 'SHA256:other')], later, ids());
    expect(r.changed.map((d) => d.id)).toEqual(['dev-1']);
  });

  it('does not join by address when the hostnames disagree (DHCP handed the address on)', () => {
    const inv = [device({ id: 'a', hostnames: ['old.local'], addresses: ['10.0.0.10'] })];
    const r = mergeSightings(inv, [mdnsSeen('new.local', '10.0.0.10')], later, ids());
    expect(r.changed.map((d) => d.id)).toEqual(['dev-1']);
  });

  it('matches by MAC when the host key is unknown', () => {
    const inv = [device({ id: 'a', macs: ['02:00:00:00:00:0a'], addresses: ['10.0.0.5'] })];
    const r = mergeSightings(inv, [sweepSeen('10.0.0.6', undefined, '02:00:00:00:00:0a')], later, ids());
    expect(r.changed.map((d) => d.id)).toEqual(['a']);
  });

  it('never overwrites the name, tags or notes the technician set', () => {
    const inv = [device({ id: 'a', name: 'Boiler gateway', tags: { site: 'plant-3' }, notes: 'behind the panel', addresses: ['10.0.0.10'] })];
    const r = mergeSightings(inv, [mdnsSeen('gw-17.local', '10.0.0.10')], later, ids());
    expect(r.changed[0]).toMatchObject({ name: 'Boiler gateway', tags: { site: 'plant-3' }, notes: 'behind the panel', hostnames: ['gw-17.local'] });
  });

  it('replaces a made-up name with a better one', () => {
    const inv = [device({ id: 'a', name: '10.0.0.10', addresses: ['10.0.0.10'], sources: ['sweep'] })];
    expect(isAutoName(inv[0] as Device)).toBe(true);
    const r = mergeSightings(inv, [mdnsSeen('pi-7.local', '10.0.0.10')], later, ids());
    expect(r.changed[0]?.name).toBe('pi-7');
  });

  it('folds two records into one when a sighting proves they are the same device, keeping the older id and the technician fields', () => {
    const older = device({ id: 'old', name: 'Pump PLC', notes: 'n', hostnames: ['plc.local'], firstSeen: '2026-01-01T00:00:00.000Z' });
    const newer = device({ id: 'new', addresses: ['10.0.0.20'], ssh: { port: 22, user: 'root', hostKeyFingerprint: 'SHA256:p' }, firstSeen: '2026-06-01T00:00:00.000Z', tags: { role: 'plc' } });
    const r = mergeSightings([older, newer], [{ source: 'mdns', hostnames: ['plc.local'], addresses: ['10.0.0.20'], ssh: { hostKeyFingerprint: 'SHA256:p' } }], later, ids());
    expect(r.removedIds).toEqual(['new']);
    expect(r.changed).toHaveLength(1);
    expect(r.changed[0]).toMatchObject({ id: 'old', name: 'Pump PLC', notes: 'n', tags: { role: 'plc' }, firstSeen: '2026-01-01T00:00:00.000Z', addresses: ['10.0.0.20'] });
  });

  it('keeps a manual SSH port and user', () => {
    const inv = [device({ id: 'a', addresses: ['10.0.0.10'], ssh: { port: 2222, user: 'admin' } })];
    const r = mergeSightings(inv, [{ source: 'sweep', addresses: ['10.0.0.10'], ssh: { port: 22 } }], later, ids());
    expect(r.changed[0]?.ssh).toMatchObject({ port: 2222, user: 'admin' });
  });

  it('matches serial sightings by port path only', () => {
    const inv = [device({ id: 's', serialPath: '/dev/ttyUSB0', name: '/dev/ttyUSB0', sources: ['serial'] })];
    const r = mergeSightings(inv, [{ source: 'serial', serialPath: '/dev/ttyUSB0', suggestedName: 'FTDI' }, { source: 'serial', serialPath: '/dev/ttyUSB1' }], later, ids());
    expect(r.changed.map((d) => [d.id, d.serialPath])).toEqual([
      ['s', '/dev/ttyUSB0'],
      ['dev-1', '/dev/ttyUSB1'],
    ]);
    expect(matchSighting(inv, { source: 'serial', serialPath: '/dev/ttyACM0' })).toEqual([]);
  });

  it('is idempotent: the same batch twice changes nothing but lastSeen', () => {
    const batch = [mdnsSeen('pi-1.local', '10.0.0.10'), sweepSeen('10.0.0.10', 'SHA256:a', '02:00:00:00:00:0a')];
    const first = mergeSightings([], batch, now, ids());
    const second = mergeSightings(first.changed, batch, later, ids());
    expect(second.changed).toEqual(first.changed.map((d) => ({ ...d, lastSeen: later.toISOString() })));
  });
});

describe('markStale', () => {
  it('marks only devices the pass should have seen', () => {
    const devices = [device({ id: 'a', state: 'online', addresses: ['10.0.0.1'] }), device({ id: 'b', state: 'online', addresses: ['192.168.0.1'] }), device({ id: 'c', state: 'online', addresses: ['10.0.0.3'] })];
    const gone = markStale(devices, (d) => d.addresses[0]?.startsWith('10.') ?? false, new Set(['c']));
    expect(gone.map((d) => [d.id, d.state])).toEqual([['a', 'stale']]);
  });
});
