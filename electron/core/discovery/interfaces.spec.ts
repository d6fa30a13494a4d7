import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { chooseInterfaces, describeInterfaces, isVirtualInterface } from './interfaces';

const v4 = (address: string, cidr: string): NetworkInterfaceInfo => ({ address, cidr, family: 'IPv4', internal: false, mac: '02:00:00:00:00:01', netmask: '255.255.255.0' });

describe('interfaces', () => {
  const table = {
    lo: [{ ...v4('127.0.0.1', '127.0.0.1/8'), internal: true }],
    eth0: [v4('192.168.1.5', '192.168.1.5/24')],
    docker0: [v4('172.17.0.1', '172.17.0.1/16')],
    'br-1234': [v4('172.18.0.1', '172.18.0.1/16')],
    vethab12: [v4('10.77.0.1', '10.77.0.1/24')],
    'vEthernet (WSL)': [v4('172.30.0.1', '172.30.0.1/20')],
  };

  it.each(['docker0', 'veth1a2b', 'br-abc', 'virbr0', 'vEthernet (WSL)', 'wsl0'])('treats %s as virtual', (n) => expect(isVirtualInterface(n)).toBe(true));
  it.each(['eth0', 'wlan0', 'enp3s0', 'lab0', 'wlp2s0'])('treats %s as real', (n) => expect(isVirtualInterface(n)).toBe(false));

  it('chooses only real interfaces by default, skipping loopback', () => {
    expect(chooseInterfaces(describeInterfaces(table)).map((i) => i.name)).toEqual(['eth0']);
  });

  it('lets the caller pick a virtual interface explicitly', () => {
    expect(chooseInterfaces(describeInterfaces(table), ['vethab12']).map((i) => i.ipv4?.cidr)).toEqual(['10.77.0.1/24']);
  });

  it('refuses an unknown interface with invalid-input', () => {
    expect(() => chooseInterfaces(describeInterfaces(table), ['nope0'])).toThrow(expect.objectContaining({ kind: 'invalid-input' }));
  });
});
