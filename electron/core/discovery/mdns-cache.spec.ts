import { decode, encode, type Answer } from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { MdnsCache, parseTxt, type RawRecord } from './mdns-cache';

const announce = (host: string, ip: string, ttl = 120): Answer[] => [
  { name: '_ssh._tcp.local', type: 'PTR', ttl: 4500, data: `${host}._ssh._tcp.local` },
  { name: `${host}._ssh._tcp.local`, type: 'SRV', ttl, data: { port: 22, target: `${host}.local`, priority: 0, weight: 0 } },
  { name: `${host}._ssh._tcp.local`, type: 'TXT', ttl: 4500, data: [Buffer.from('model=pi4'), Buffer.from('fw=1.2')] },
  { name: `${host}.local`, type: 'A', ttl, data: ip },
];

/** Round-trips through the real codec so the cache sees exactly what the socket layer would hand it. */
function wire(answers: Answer[]): RawRecord[] {
  const packet = decode(encode({ type: 'response', id: 0, flags: 1 << 10, answers }));
  return (packet.answers ?? []) as unknown as RawRecord[];
}

describe('MdnsCache', () => {
  it('resolves PTR → SRV/TXT → A into hosts with services', () => {
    const cache = new MdnsCache();
    expect(cache.ingest(wire(announce('pi-1', '10.77.0.10')), 0)).toBe(true);
    expect(cache.hosts()).toEqual([{ hostname: 'pi-1.local', addresses: ['10.77.0.10'], services: [{ type: '_ssh._tcp', port: 22, txt: { model: 'pi4', fw: '1.2' } }] }]);
  });

  it('expires records by TTL and removes them at once on a goodbye (TTL 0)', () => {
    const cache = new MdnsCache();
    cache.ingest(wire(announce('pi-1', '10.77.0.10', 10)), 0);
    cache.ingest(wire(announce('pi-2', '10.77.0.11')), 0);
    expect(cache.expire(9_000)).toBe(false);
    expect(cache.expire(10_000)).toBe(true);
    expect(cache.hosts().map((h) => h.hostname)).toEqual(['pi-2.local']);
    const goodbye = announce('pi-2', '10.77.0.11').map((a) => ({ ...a, ttl: 0 }));
    expect(cache.ingest(wire(goodbye), 11_000)).toBe(true);
    expect(cache.hosts()).toEqual([]);
  });

  it('reports no change for a repeated announcement', () => {
    const cache = new MdnsCache();
    cache.ingest(wire(announce('pi-1', '10.77.0.10')), 0);
    expect(cache.ingest(wire(announce('pi-1', '10.77.0.10')), 1_000)).toBe(false);
  });

  it('ignores records of the wrong class', () => {
    const cache = new MdnsCache();
    cache.ingest(wire(announce('pi-1', '10.77.0.10').map((a) => ({ ...a, class: 'CH' as const }))), 0);
    expect(cache.hosts()).toEqual([]);
    expect(cache.size).toBe(0);
  });

  it('drops malformed record data and hostile names instead of storing them', () => {
    const cache = new MdnsCache();
    const hostile: RawRecord[] = [
      { name: '_ssh._tcp.local', type: 'PTR', data: 'evil._ssh._tcp.local' },
      { name: 'evil._ssh._tcp.local', type: 'SRV', data: { port: 99_999, target: 'evil.local' } },
      { name: 'evil2._ssh._tcp.local', type: 'SRV', data: { port: 22, target: '\u001b[2J evil.local' } },
      { name: 'x.local', type: 'A', data: '999.1.1.1' },
      { name: 'y.local', type: 'A', data: { not: 'an address' } },
      { name: 'z.local', type: 'AAAA', data: 'nonsense' },
      null as unknown as RawRecord,
    ];
    expect(() => cache.ingest(hostile, 0)).not.toThrow();
    expect(cache.hosts()).toEqual([]);
  });

  it('bounds oversized TXT records', () => {
    const txt = parseTxt([...Array.from({ length: 500 }, (_, i) => Buffer.from(`k${i}=${'v'.repeat(10)}`)), Buffer.from(`big=${'x'.repeat(5_000)}`)]);
    expect(Object.keys(txt ?? {})).toHaveLength(32);
    expect(parseTxt([Buffer.from('__proto__=1'), Buffer.from('a=\u001b[31mred'), Buffer.from('flag')])).toEqual({ a: 'red', flag: '' });
  });
});

describe('dns-packet on hostile bytes', () => {
  const header = (an: number) => {
    const h = Buffer.alloc(12);
    h.writeUInt16BE(0x8400, 2);
    h.writeUInt16BE(an, 6);
    return h;
  };

  it('throws (which the socket layer counts as malformed) on a truncated packet', () => {
    const full = encode({ type: 'response', answers: announce('pi-1', '10.77.0.10') });
    expect(() => decode(full.subarray(0, full.length - 7))).toThrow();
    expect(() => decode(Buffer.from([0, 1, 2]))).toThrow();
  });

  it('throws on a compression pointer loop instead of spinning', () => {
    // One answer whose name is a pointer to itself (offset 12).
    const loop = Buffer.concat([header(1), Buffer.from([0xc0, 0x0c]), Buffer.from([0, 1, 0, 1, 0, 0, 0, 10, 0, 4, 10, 0, 0, 1])]);
    expect(() => decode(loop)).toThrow();
    // Two pointers chasing each other.
    const pingPong = Buffer.concat([header(1), Buffer.from([0x01, 0x61, 0xc0, 0x0c]), Buffer.from([0, 1, 0, 1, 0, 0, 0, 10, 0, 4, 10, 0, 0, 1])]);
    expect(() => decode(pingPong)).toThrow();
  });
});
