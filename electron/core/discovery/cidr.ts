import { OutpostError } from '../../../shared/errors';

export interface Ipv4Range {
  cidr: string;
  prefix: number;
  /** Network address as an unsigned 32-bit number. */
  base: number;
}

/** The laptop's own subnets are swept at most this wide unless the technician widens it explicitly. */
export const DEFAULT_SUBNET_CAP = 22;
/** Nothing wider than this is ever swept: 65k hosts × 7 ports is a scan, not a look around the plant room. */
export const WIDEST_SWEEP = 16;

export function ipv4ToNumber(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((acc, o) => acc * 256 + o, 0);
}

export function numberToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** Parses `a.b.c.d/nn` (a bare address means /32); refuses anything wider than /16 with kind invalid-input. */
export function parseCidr(text: string): Ipv4Range {
  const [addr, prefixText, extra] = text.trim().split('/');
  const prefix = prefixText === undefined ? 32 : Number(prefixText);
  const n = addr === undefined ? undefined : ipv4ToNumber(addr);
  if (n === undefined || extra !== undefined || !/^\d{1,2}$/.test(prefixText ?? '32') || prefix > 32) {
    throw new OutpostError('invalid-input', `${JSON.stringify(text)} is not an IPv4 CIDR like 192.168.1.0/24`);
  }
  if (prefix < WIDEST_SWEEP) {
    throw new OutpostError('invalid-input', `${text} is too wide to sweep (${2 ** (32 - prefix)} addresses); the widest allowed is /${WIDEST_SWEEP}`, { cidr: text });
  }
  const size = 2 ** (32 - prefix);
  const base = n - (n % size);
  return { cidr: `${numberToIpv4(base)}/${prefix}`, prefix, base };
}

/** Narrows a subnet to at most /cap around `around` (the laptop's own address), so a /16 office LAN stays quick. */
export function capRange(range: Ipv4Range, cap: number, around: number): Ipv4Range {
  if (range.prefix >= cap) return range;
  const size = 2 ** (32 - cap);
  const base = around - (around % size);
  return { cidr: `${numberToIpv4(base)}/${cap}`, prefix: cap, base };
}

/** Host addresses of a range: without network and broadcast addresses for /30 and wider. */
export function hostsOf(range: Ipv4Range): string[] {
  const size = 2 ** (32 - range.prefix);
  if (size <= 2) return Array.from({ length: size }, (_, i) => numberToIpv4(range.base + i));
  return Array.from({ length: size - 2 }, (_, i) => numberToIpv4(range.base + 1 + i));
}

export function contains(range: Ipv4Range, ip: string): boolean {
  const n = ipv4ToNumber(ip);
  return n !== undefined && n >= range.base && n < range.base + 2 ** (32 - range.prefix);
}

/** Unique hosts across ranges, in order, minus the given addresses (the laptop's own). */
export function sweepTargets(ranges: readonly Ipv4Range[], exclude: readonly string[] = []): string[] {
  const seen = new Set(exclude);
  const out: string[] = [];
  for (const r of ranges) {
    for (const h of hostsOf(r)) {
      if (seen.has(h)) continue;
      seen.add(h);
      out.push(h);
    }
  }
  return out;
}
