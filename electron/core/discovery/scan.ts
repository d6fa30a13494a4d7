import { randomUUID } from 'node:crypto';
import type { Device, ScanArgs, ScanResult } from '../../../shared/contract';
import { OutpostError } from '../../../shared/errors';
import type { EventBus } from '../router';
import { markSharedHostKeys, type DevicesRepo } from '../store/devices-repo';
import { capRange, contains, DEFAULT_SUBNET_CAP, ipv4ToNumber, parseCidr, sweepTargets, type Ipv4Range } from './cidr';
import { laptopAddresses, laptopInterfaces, type LaptopInterface } from './interfaces';
import type { MdnsHost } from './mdns-cache';
import { MdnsBrowser } from './mdns-browser';
import { markStale, mergeSightings, type Sighting } from './merge';
import { listSerialPorts } from './serial-ports';
import { sweep } from './sweep';
import type { SerialPortInfo } from '../../../shared/contract';

export function mdnsSighting(h: MdnsHost): Sighting {
  return { source: 'mdns', hostnames: [h.hostname], addresses: h.addresses, services: h.services };
}

export function serialSighting(p: SerialPortInfo): Sighting {
  const label = [p.manufacturer, p.product, p.serialNumber].filter(Boolean).join(' ');
  return { source: 'serial', serialPath: p.path, suggestedName: label ? `${label} (${p.path})` : p.path };
}

/** The ranges to sweep: the ones given (each ≤ /16), or the laptop's own subnets narrowed to /22 unless `wide`. */
export function sweepRanges(cidrs: readonly string[] | undefined, interfaces: readonly LaptopInterface[], wide: boolean): Ipv4Range[] {
  if (cidrs?.length) return cidrs.map(parseCidr);
  return interfaces.flatMap((i) => {
    if (!i.ipv4) return [];
    const range = parseCidrOrNull(i.ipv4.cidr);
    if (!range) return [];
    return [wide ? range : capRange(range, DEFAULT_SUBNET_CAP, ipv4ToNumber(i.ipv4.address) ?? range.base)];
  });
}

function parseCidrOrNull(cidr: string): Ipv4Range | null {
  try {
    return parseCidr(cidr);
  } catch (err) {
    // A laptop on a /8 corporate LAN: its own subnet is past the widest sweep, so take the /16 around it.
    if (err instanceof OutpostError && err.kind === 'invalid-input' && /too wide/.test(err.message)) {
      const [addr] = cidr.split('/');
      return parseCidr(`${addr}/16`);
    }
    return null;
  }
}

/** Listens to mDNS for a fixed window and returns the hosts heard. */
export async function browseOnce(interfaces: readonly LaptopInterface[], serviceTypes: readonly string[] | undefined, windowMs: number, signal?: AbortSignal): Promise<{ hosts: MdnsHost[]; packets: number }> {
  const browser = new MdnsBrowser({ interfaces, serviceTypes, firstQueryIntervalMs: Math.max(100, Math.floor(windowMs / 3)) });
  await browser.start();
  // The window ends early on a cancel: what answered so far is kept.
  await new Promise<void>((resolve) => {
    const end = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', end);
      resolve();
    };
    const timer = setTimeout(end, windowMs);
    if (signal?.aborted) end();
    else signal?.addEventListener('abort', end, { once: true });
  });
  const hosts = browser.hosts();
  const packets = browser.packets;
  await browser.stop();
  return { hosts, packets };
}

/** Saves a merge into the inventory and tells every listener which devices changed. */
export function saveMerge(repo: DevicesRepo, bus: EventBus, sightings: readonly Sighting[], now = new Date()): { changed: Device[]; removedIds: string[] } {
  const result = mergeSightings(repo.list(), sightings, now, randomUUID);
  for (const id of result.removedIds) repo.remove(id);
  for (const d of result.changed) repo.save(d);
  const ids = [...result.changed.map((d) => d.id), ...result.removedIds];
  if (ids.length) bus.emit('devices:changed', { ids });
  return result;
}

/** One discovery pass: mDNS, sweep and serial side by side, merged into the inventory in one batch. */
export async function scanOnce(args: ScanArgs, repo: DevicesRepo, bus: EventBus, opts: { progress?: boolean; signal?: AbortSignal } = {}): Promise<ScanResult> {
  const started = performance.now();
  const interfaces = laptopInterfaces(args.interfaces);
  const ranges = args.sweep ? sweepRanges(args.cidrs, interfaces, args.wide) : [];
  // The laptop never probes itself: its own closed ports answer with a RST, which would look like a device.
  const hosts = sweepTargets(ranges, laptopAddresses());
  let lastReported = -1;
  const [mdns, swept, serialPorts] = await Promise.all([
    args.mdns && interfaces.length ? browseOnce(interfaces, args.serviceTypes, args.mdnsWindowMs, opts.signal) : Promise.resolve({ hosts: [], packets: 0 }),
    hosts.length
      ? sweep({
          hosts,
          ports: args.ports,
          timeoutMs: args.timeoutMs,
          signal: opts.signal,
          onProgress: (done, total) => {
            // Background re-sweeps stay quiet: the progress bar belongs to the scan the technician started.
            if (opts.progress === false) return;
            // A /22 is ~2000 ticks; the UI needs a few dozen updates, not thousands.
            const step = Math.floor((done / total) * 50);
            if (step === lastReported && done !== total) return;
            lastReported = step;
            bus.emit('discovery:progress', { done, total });
          },
        })
      : Promise.resolve({ sightings: [], probes: 0, hostKeys: new Map<string, Buffer>() }),
    args.serial ? listSerialPorts(args.serialPaths) : Promise.resolve([]),
  ]);
  const sightings = [...mdns.hosts.map(mdnsSighting), ...swept.sightings, ...serialPorts.map(serialSighting)];
  const now = new Date();
  const merged = saveMerge(repo, bus, sightings, now);
  const seen = new Set(merged.changed.map((d) => d.id));
  const cancelled = opts.signal?.aborted ?? false;
  // A cancelled sweep did not look at every address: nobody is marked gone because of it.
  if (ranges.length && !cancelled) {
    const gone = markStale(repo.list(), (d) => d.addresses.length > 0 && d.addresses.every((a) => ranges.some((r) => contains(r, a))), seen);
    for (const d of gone) repo.save(d);
    if (gone.length) bus.emit('devices:changed', { ids: gone.map((d) => d.id) });
  }
  return {
    // Read back with the inventory's shared-host-key marks (a clone may pair with a record this scan did not touch).
    devices: markSharedHostKeys(merged.changed, repo.list()).sort((a, b) => (ipv4ToNumber(a.addresses[0] ?? '') ?? 0) - (ipv4ToNumber(b.addresses[0] ?? '') ?? 0)),
    mergedAway: merged.removedIds,
    stats: { hostsProbed: hosts.length, probes: swept.probes, mdnsPackets: mdns.packets, elapsedMs: Math.round(performance.now() - started) },
    cancelled,
  };
}
