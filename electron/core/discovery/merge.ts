import { blankDevice } from '../../../shared/contract/devices';
import type { Device, DeviceService, DeviceSource } from '../../../shared/contract';

/** What one source saw of one device at one moment. Every field is optional except where it came from. */
export interface Sighting {
  source: DeviceSource;
  hostnames?: string[];
  addresses?: string[];
  macs?: string[];
  services?: DeviceService[];
  ssh?: { port?: number; banner?: string; hostKeyFingerprint?: string };
  docker?: { apiVersion?: string; tls?: boolean; port?: number };
  serialPath?: string;
  /** A name worth showing when the device has none the technician chose (e.g. a serial adapter's product). */
  suggestedName?: string;
}

export interface MergeResult {
  /** Every device this batch created or changed, in their final form. */
  changed: Device[];
  /** Devices folded into another because the batch proved they were the same physical device. */
  removedIds: string[];
}

const union = <T>(a: readonly T[], b: readonly T[] = []): T[] => [...new Set([...a, ...b])];

/** A name Outpost made up (an address, a hostname, a port path): a later, better one may replace it. */
export function isAutoName(d: Device): boolean {
  const shortNames = d.hostnames.flatMap((h) => [h, h.replace(/\.local$/, '')]);
  return d.name === 'device' || d.addresses.includes(d.name) || shortNames.includes(d.name) || d.serialPath === d.name;
}

function bestAutoName(d: Device, suggested?: string): string {
  const hostname = d.hostnames.find((h) => !/^\d/.test(h));
  if (hostname) return hostname.replace(/\.local$/, '');
  return suggested ?? d.addresses[0] ?? d.serialPath ?? 'device';
}

function mergeServices(a: readonly DeviceService[], b: readonly DeviceService[] = []): DeviceService[] {
  const out = [...a];
  for (const s of b) {
    const i = out.findIndex((o) => o.type === s.type && o.port === s.port);
    if (i >= 0) out[i] = { ...s, txt: { ...out[i]?.txt, ...s.txt } };
    else out.push(s);
  }
  return out;
}

/**
 * Which devices a sighting is evidence of, strongest identifier first: host key, MAC, hostname, serial path, address.
 * An equal host key alone does not make one device: gateways flashed from one image share host keys. So a key match
 * also needs the MACs not to disagree, and a record already seen at another address in the same batch (`seenElsewhere`)
 * is another box with the same key.
 */
export function matchSighting(devices: readonly Device[], s: Sighting, seenElsewhere: (d: Device) => boolean = () => false): Device[] {
  const fp = s.ssh?.hostKeyFingerprint;
  const matches: Device[] = [];
  const add = (d: Device | undefined) => {
    if (d && !matches.includes(d)) matches.push(d);
  };
  const macConflict = (d: Device) => Boolean(s.macs?.length && d.macs.length && !s.macs.some((m) => d.macs.includes(m)));
  // Two different host keys (or MACs) on either side mean two machines, whatever else they share.
  const conflicts = (d: Device) => (fp !== undefined && d.ssh.hostKeyFingerprint !== undefined && d.ssh.hostKeyFingerprint !== fp) || macConflict(d);
  if (fp) {
    const sameKey = devices.filter((d) => d.ssh.hostKeyFingerprint === fp && !macConflict(d) && !seenElsewhere(d));
    // Several records with this key (clones): the key cannot tell them apart, only a MAC or an address can.
    const proven = sameKey.length > 1 ? sameKey.filter((d) => s.macs?.some((m) => d.macs.includes(m)) || s.addresses?.some((a) => d.addresses.includes(a))) : sameKey;
    for (const d of proven.slice(0, 1)) add(d);
  }
  for (const mac of s.macs ?? []) add(devices.find((d) => d.macs.includes(mac)));
  for (const h of s.hostnames ?? []) add(devices.find((d) => d.hostnames.includes(h) && !conflicts(d)));
  if (s.serialPath) add(devices.find((d) => d.serialPath === s.serialPath));
  // An address alone is weak (DHCP hands it on), so it only joins records that disagree on nothing.
  const namedElse = (d: Device) => Boolean(s.hostnames?.length && d.hostnames.length && !s.hostnames.some((h) => d.hostnames.includes(h)));
  for (const a of s.addresses ?? []) add(devices.find((d) => d.addresses.includes(a) && !conflicts(d) && !namedElse(d)));
  return matches;
}

/** Folds `other` into `keep`: identifiers and services unite; name, tags and notes stay the kept device's. */
function absorb(keep: Device, other: Device): Device {
  const merged: Device = {
    ...keep,
    hostnames: union(keep.hostnames, other.hostnames),
    addresses: union(keep.addresses, other.addresses),
    macs: union(keep.macs, other.macs),
    sources: union(keep.sources, other.sources),
    services: mergeServices(keep.services, other.services),
    ssh: { ...other.ssh, ...keep.ssh },
    docker: keep.docker ?? other.docker,
    serialPath: keep.serialPath ?? other.serialPath,
    tags: { ...other.tags, ...keep.tags },
    notes: keep.notes || other.notes,
    firstSeen: keep.firstSeen < other.firstSeen ? keep.firstSeen : other.firstSeen,
    lastSeen: keep.lastSeen > other.lastSeen ? keep.lastSeen : other.lastSeen,
  };
  if (isAutoName(keep) && !isAutoName(other)) merged.name = other.name;
  return merged;
}

function apply(d: Device, s: Sighting, now: string): Device {
  const next: Device = {
    ...d,
    hostnames: union(d.hostnames, s.hostnames),
    // The freshest address first: it is the one dialled. A swept address where nothing answered (a stale neighbour
    // entry after a DHCP move) is kept, but last: it must not become the address dialled.
    addresses: s.source === 'sweep' && !s.services?.length ? union(d.addresses, s.addresses) : union(s.addresses ?? [], d.addresses),
    macs: union(d.macs, s.macs),
    sources: union(d.sources, [s.source]),
    services: mergeServices(d.services, s.services),
    ssh: {
      ...d.ssh,
      ...(s.ssh?.banner !== undefined ? { banner: s.ssh.banner } : {}),
      ...(s.ssh?.hostKeyFingerprint !== undefined ? { hostKeyFingerprint: s.ssh.hostKeyFingerprint } : {}),
      ...(s.ssh?.port !== undefined && !d.sources.includes('manual') ? { port: s.ssh.port } : {}),
    },
    docker: s.docker ? { ...(d.docker ?? {}), ...s.docker } : d.docker,
    serialPath: d.serialPath ?? s.serialPath ?? null,
    state: 'online',
    lastSeen: now,
  };
  if (isAutoName(d)) next.name = bestAutoName(next, s.suggestedName);
  return next;
}

/**
 * Merges a batch of sightings into the inventory, one record per physical device. Pure: the caller saves
 * `changed` and deletes `removedIds`. A merge never touches the name, tags or notes the technician set.
 */
export function mergeSightings(inventory: readonly Device[], sightings: readonly Sighting[], now: Date, newId: () => string): MergeResult {
  const ts = now.toISOString();
  let devices = [...inventory];
  const changedIds = new Set<string>();
  const removedIds = new Set<string>();
  // Per record, the addresses and MACs its host key was seen at in this batch: the same key at a second address at
  // once, with no MAC to join them, is a second box (a clone), not a second address.
  const keySeen = new Map<string, { addresses: Set<string>; macs: Set<string> }>();
  const seenElsewhere = (s: Sighting) => (d: Device) => {
    const seen = keySeen.get(d.id);
    if (!seen || !s.addresses?.length) return false;
    if (s.macs?.some((m) => seen.macs.has(m))) return false;
    return !s.addresses.some((a) => seen.addresses.has(a));
  };
  for (const s of sightings) {
    const matches = matchSighting(devices, s, seenElsewhere(s));
    let target: Device;
    if (matches.length === 0) {
      target = blankDevice(newId(), ts, { state: 'online' });
    } else {
      // The oldest record survives, so ids the technician has seen (and scripts used) keep working.
      const [keep, ...others] = [...matches].sort((a, b) => a.firstSeen.localeCompare(b.firstSeen) || a.id.localeCompare(b.id));
      target = keep as Device;
      for (const o of others) {
        target = absorb(target, o);
        removedIds.add(o.id);
        changedIds.delete(o.id);
      }
      devices = devices.filter((d) => !others.includes(d));
    }
    const next = apply(target, s, ts);
    devices = [...devices.filter((d) => d.id !== next.id), next];
    changedIds.add(next.id);
    if (s.ssh?.hostKeyFingerprint) {
      const seen = keySeen.get(next.id) ?? { addresses: new Set<string>(), macs: new Set<string>() };
      for (const a of s.addresses ?? []) seen.addresses.add(a);
      for (const m of s.macs ?? []) seen.macs.add(m);
      keySeen.set(next.id, seen);
    }
  }
  return { changed: devices.filter((d) => changedIds.has(d.id)), removedIds: [...removedIds] };
}

/** Marks devices stale that a complete pass should have seen and did not. */
export function markStale(devices: readonly Device[], shouldHaveSeen: (d: Device) => boolean, seenIds: ReadonlySet<string>): Device[] {
  return devices.filter((d) => d.state !== 'stale' && !seenIds.has(d.id) && shouldHaveSeen(d)).map((d) => ({ ...d, state: 'stale' as const }));
}
