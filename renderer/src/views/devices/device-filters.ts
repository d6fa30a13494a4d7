import type { ArgsOf, Device, DeviceSource } from '../../../../shared/contract';
import { deviceMatches } from './device-format';

export type DeviceState = Device['state'];

/** What the technician narrowed the list to; empty arrays mean "any". */
export interface DeviceFilter {
  search: string;
  sources: DeviceSource[];
  states: DeviceState[];
  /** `key=value`, as listed by `tagOptions`. */
  tag: string | null;
}

export const NO_FILTER: DeviceFilter = { search: '', sources: [], states: [], tag: null };

export function filterDevices(devices: readonly Device[], filter: DeviceFilter): Device[] {
  return devices.filter(
    (d) =>
      (filter.sources.length === 0 || d.sources.some((s) => filter.sources.includes(s))) &&
      (filter.states.length === 0 || filter.states.includes(d.state)) &&
      (filter.tag === null || tagPairs(d).includes(filter.tag)) &&
      deviceMatches(d, filter.search),
  );
}

function tagPairs(device: Device): string[] {
  return Object.entries(device.tags).map(([k, v]) => `${k}=${v}`);
}

/** Every `key=value` tag present in the inventory, sorted, for the tag filter. */
export function tagOptions(devices: readonly Device[]): string[] {
  return [...new Set(devices.flatMap(tagPairs))].sort();
}

/** `site=north, role=gateway` → `{site: 'north', role: 'gateway'}`; a bare word is an error, not a silent drop. */
export function parseTags(text: string): { tags: Record<string, string> } | { error: string } {
  const tags: Record<string, string> = {};
  for (const part of text.split(/[,\n]/)) {
    const item = part.trim();
    if (!item) continue;
    const eq = item.indexOf('=');
    if (eq <= 0) return { error: `“${item}” is not key=value` };
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (!/^[A-Za-z0-9._-]+$/.test(key)) return { error: `tag name “${key}” may hold letters, digits, . _ - only` };
    tags[key] = value;
  }
  return { tags };
}

export function formatTags(tags: Record<string, string>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

/** Ports typed as `22`, `8000-8003`: each a number 1–65535, ranges expanded, duplicates dropped. */
export function parsePorts(items: readonly string[]): { ports: number[] } | { error: string } {
  const ports = new Set<number>();
  for (const raw of items) {
    const item = raw.trim();
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(item);
    const [from, to] = range ? [Number(range[1]), Number(range[2])] : [Number(item), Number(item)];
    if (!/^\d+(\s*-\s*\d+)?$/.test(item) || from < 1 || to > 65535 || from > to) return { error: `“${item}” is not a port or a port range` };
    if (to - from > 1024) return { error: `the range ${item} is too long (at most 1024 ports)` };
    for (let p = from; p <= to; p++) ports.add(p);
  }
  if (ports.size > 64) return { error: `${ports.size} ports: a scan probes at most 64` };
  return { ports: [...ports] };
}

export interface ScanForm {
  interfaces: string[];
  cidrs: string[];
  ports: string[];
  mdns: boolean;
  sweep: boolean;
  serial: boolean;
}

/** The form as `discovery:scan` arguments; empty lists are left out so the core picks its defaults. */
export function toScanArgs(form: ScanForm): { args: ArgsOf<'discovery:scan'> } | { error: string } {
  if (!form.mdns && !form.sweep && !form.serial) return { error: 'turn on at least one of mDNS, sweep or serial' };
  const args: NonNullable<ArgsOf<'discovery:scan'>> = { mdns: form.mdns, sweep: form.sweep, serial: form.serial };
  const interfaces = form.interfaces.map((s) => s.trim()).filter(Boolean);
  const cidrs = form.cidrs.map((s) => s.trim()).filter(Boolean);
  if (interfaces.length) args.interfaces = interfaces;
  if (cidrs.length) args.cidrs = cidrs;
  if (form.ports.length) {
    const parsed = parsePorts(form.ports);
    if ('error' in parsed) return parsed;
    args.ports = parsed.ports;
  }
  return { args };
}

/** How often live discovery re-sweeps the subnets when the form's sweep is on. */
export const LIVE_RESWEEP_MS = 60_000;

/**
 * The scan form as live-discovery settings: the same interfaces, and — with sweep on — the same subnets and ports
 * re-swept every minute, so devices that never announce themselves over mDNS appear while browsing too.
 */
export function toBrowseArgs(form: ScanForm): { args: ArgsOf<'discovery:start'> } | { error: string } {
  const built = toScanArgs({ ...form, mdns: true });
  if ('error' in built) return built;
  const { interfaces, cidrs, ports } = built.args ?? {};
  return { args: { interfaces, ...(form.sweep ? { cidrs, ports, sweepIntervalMs: LIVE_RESWEEP_MS } : {}) } };
}

/** 0–100 for a progress bar; a scan that has not reported yet shows an empty bar, not NaN. */
export function scanPercent(progress: { done: number; total: number } | null): number {
  if (!progress || progress.total <= 0) return 0;
  return Math.min(100, Math.round((progress.done / progress.total) * 100));
}
