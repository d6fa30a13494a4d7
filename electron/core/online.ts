import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

/**
 * "Online" means the laptop has a route off the site: a default route on Linux (read from /proc, no traffic
 * sent), or elsewhere any non-internal interface. In a lab namespace with only `lo` this is offline.
 */
export function detectOnline(readRoutes: () => string = () => readFileSync('/proc/net/route', 'utf8')): boolean {
  if (process.platform === 'linux') {
    try {
      return parseHasDefaultRoute(readRoutes()) || hasDefaultIpv6Route();
    } catch {
      // fall through to the interface check
    }
  }
  return Object.values(networkInterfaces()).some((list) => (list ?? []).some((i) => !i.internal));
}

export function parseHasDefaultRoute(routeTable: string): boolean {
  return routeTable
    .split('\n')
    .slice(1)
    .some((line) => {
      const cols = line.trim().split(/\s+/);
      return cols.length > 7 && cols[1] === '00000000' && cols[7] === '00000000';
    });
}

function hasDefaultIpv6Route(): boolean {
  try {
    return readFileSync('/proc/net/ipv6_route', 'utf8')
      .split('\n')
      .some((line) => line.startsWith('00000000000000000000000000000000 00 ') && !line.trim().endsWith(' lo'));
  } catch {
    return false;
  }
}
