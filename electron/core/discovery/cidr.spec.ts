import { describe, expect, it } from 'vitest';
import { capRange, contains, hostsOf, ipv4ToNumber, parseCidr, sweepTargets } from './cidr';

describe('parseCidr', () => {
  it('normalises to the network address', () => {
    expect(parseCidr('10.1.2.77/24')).toMatchObject({ cidr: '10.1.2.0/24', prefix: 24 });
    expect(parseCidr('10.1.2.77')).toMatchObject({ cidr: '10.1.2.77/32', prefix: 32 });
  });

  it.each(['10.0.0.0/15', '10.0.0.0/8', '0.0.0.0/0'])('refuses %s as too wide with invalid-input', (c) => {
    expect(() => parseCidr(c)).toThrow(expect.objectContaining({ kind: 'invalid-input', message: expect.stringMatching(/too wide/) }));
  });

  it.each(['', 'x', '10.0.0/24', '10.0.0.256/24', '10.0.0.0/33', '10.0.0.0/24/1', '10.0.0.0/-1', 'fe80::/64'])('refuses malformed %j', (c) => {
    expect(() => parseCidr(c)).toThrow(expect.objectContaining({ kind: 'invalid-input' }));
  });

  it('accepts /16 exactly', () => {
    expect(hostsOf(parseCidr('172.16.0.0/16'))).toHaveLength(65_534);
  });
});

describe('ranges', () => {
  it('lists hosts without network and broadcast', () => {
    const hosts = hostsOf(parseCidr('192.168.5.0/30'));
    expect(hosts).toEqual(['192.168.5.1', '192.168.5.2']);
    expect(hostsOf(parseCidr('192.168.5.9/32'))).toEqual(['192.168.5.9']);
  });

  it('caps a wide subnet to /22 around the laptop', () => {
    const capped = capRange(parseCidr('10.20.0.0/16'), 22, ipv4ToNumber('10.20.9.3') as number);
    expect(capped.cidr).toBe('10.20.8.0/22');
    expect(capRange(parseCidr('10.20.9.0/24'), 22, 0).cidr).toBe('10.20.9.0/24');
  });

  it('dedupes across ranges and skips the laptop itself', () => {
    const targets = sweepTargets([parseCidr('10.0.0.0/30'), parseCidr('10.0.0.1/32')], ['10.0.0.2']);
    expect(targets).toEqual(['10.0.0.1']);
    expect(contains(parseCidr('10.0.0.0/24'), '10.0.0.200')).toBe(true);
    expect(contains(parseCidr('10.0.0.0/24'), '10.0.1.1')).toBe(false);
  });
});
