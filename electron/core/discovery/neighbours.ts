import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cleanMac } from './sanitize';

export interface Neighbour {
  ip: string;
  mac: string;
  interface?: string;
}

/** `/proc/net/arp`: IP, HW type, flags, HW address, mask, device. Flags 0x0 means incomplete. */
export function parseProcArp(text: string): Neighbour[] {
  const out: Neighbour[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [ip, , flags, hw, , dev] = line.trim().split(/\s+/);
    if (!ip || !hw || flags === '0x0') continue;
    const mac = cleanMac(hw);
    if (mac) out.push({ ip, mac, interface: dev });
  }
  return out;
}

interface IpNeighJson {
  dst?: unknown;
  lladdr?: unknown;
  dev?: unknown;
  state?: unknown;
}

/** `ip -j neigh`: skips FAILED / INCOMPLETE entries, which carry no (or a stale) hardware address. */
export function parseIpNeighJson(text: string): Neighbour[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const out: Neighbour[] = [];
  for (const entry of parsed as IpNeighJson[]) {
    if (typeof entry?.dst !== 'string' || typeof entry.lladdr !== 'string') continue;
    const states = Array.isArray(entry.state) ? entry.state.map(String) : [];
    if (states.includes('FAILED') || states.includes('INCOMPLETE')) continue;
    const mac = cleanMac(entry.lladdr);
    if (mac) out.push({ ip: entry.dst, mac, interface: typeof entry.dev === 'string' ? entry.dev : undefined });
  }
  return out;
}

function ipNeighJson(): Promise<string> {
  return new Promise((resolve) => {
    execFile('ip', ['-j', 'neigh', 'show'], { timeout: 2_000, maxBuffer: 8 * 1024 * 1024 }, (err, stdout) => resolve(err ? '' : stdout));
  });
}

/** The OS neighbour table (IPv4 and, via `ip`, IPv6): where MAC addresses come from without raw sockets. */
export async function readNeighbours(): Promise<Map<string, Neighbour>> {
  const byIp = new Map<string, Neighbour>();
  const proc = await readFile('/proc/net/arp', 'utf8').catch(() => '');
  for (const n of parseProcArp(proc)) byIp.set(n.ip, n);
  for (const n of parseIpNeighJson(await ipNeighJson())) if (!byIp.has(n.ip)) byIp.set(n.ip, n);
  return byIp;
}
