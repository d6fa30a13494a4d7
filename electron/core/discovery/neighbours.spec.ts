import { describe, expect, it } from 'vitest';
import { parseIpNeighJson, parseProcArp } from './neighbours';

describe('neighbour tables', () => {
  it('parses /proc/net/arp and skips incomplete entries', () => {
    const text = [
      'IP address       HW type     Flags       HW address            Mask     Device',
      '10.77.0.10       0x1         0x2         02:aa:bb:cc:dd:01     *        lab0',
      '10.77.0.11       0x1         0x0         00:00:00:00:00:00     *        lab0',
      'garbage',
    ].join('\n');
    expect(parseProcArp(text)).toEqual([{ ip: '10.77.0.10', mac: '02:aa:bb:cc:dd:01', interface: 'lab0' }]);
  });

  it('parses ip -j neigh and skips FAILED entries and junk', () => {
    const json = JSON.stringify([
      { dst: '10.77.0.12', dev: 'lab0', lladdr: '02:AA:BB:CC:DD:02', state: ['REACHABLE'] },
      { dst: '10.77.0.13', dev: 'lab0', state: ['FAILED'] },
      { dst: '10.77.0.14', dev: 'lab0', lladdr: '02:aa:bb:cc:dd:04', state: ['INCOMPLETE'] },
      { dst: 5, lladdr: [] },
    ]);
    expect(parseIpNeighJson(json)).toEqual([{ ip: '10.77.0.12', mac: '02:aa:bb:cc:dd:02', interface: 'lab0' }]);
    expect(parseIpNeighJson('not json')).toEqual([]);
    expect(parseIpNeighJson('{"a":1}')).toEqual([]);
  });
});
