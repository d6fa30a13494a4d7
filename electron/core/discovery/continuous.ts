import { ScanArgs } from '../../../shared/contract/discovery';
import type { BrowseArgs, Device, SerialPortInfo } from '../../../shared/contract';
import type { EventBus } from '../router';
import type { DevicesRepo } from '../store/devices-repo';
import { contains, parseCidr, type Ipv4Range } from './cidr';
import { laptopInterfaces, type LaptopInterface } from './interfaces';
import { MdnsBrowser } from './mdns-browser';
import type { MdnsHost } from './mdns-cache';
import { mdnsSighting, saveMerge, scanOnce, serialSighting } from './scan';
import { diffPorts, listSerialPorts } from './serial-ports';
import { tcpProbe } from './tcp-probe';

/** A device missing this many liveness checks in a row goes stale: one lost SYN is not a departure. */
const MISSES_BEFORE_STALE = 2;

/**
 * The port to knock on to prove a device is still there: any answer counts, a RST from a closed port as much as
 * an accept, so its SSH port does unless it only ever offered something else.
 */
export function livenessPort(d: Device): number {
  // Any answer counts (a RST too), so the built-in port stands in for a device with no port of its own.
  const sshPort = d.ssh.port ?? 22;
  if (d.services.some((s) => s.port === sshPort) || d.ssh.hostKeyFingerprint) return sshPort;
  return d.services.find((s) => s.port > 0)?.port ?? sshPort;
}

/**
 * Continuous discovery: mDNS announcements and goodbyes as they happen, a liveness check of the devices on the
 * browsed subnets (so a device whose link died without a goodbye goes stale), serial hot-plug by polling, and —
 * when asked — a periodic re-sweep, so devices that never announce themselves show up while browsing too.
 */
export class ContinuousDiscovery {
  private browser?: MdnsBrowser;
  private livenessTimer?: NodeJS.Timeout;
  private serialTimer?: NodeJS.Timeout;
  private sweepTimer?: NodeJS.Timeout;
  private sweeping = false;
  private readonly misses = new Map<string, number>();
  private knownHosts = new Set<string>();
  private lastAnnounced = new Map<string, string>();
  private serialPorts: SerialPortInfo[] = [];
  private subnets: Ipv4Range[] = [];
  private interfaces: LaptopInterface[] = [];
  private checking = false;

  constructor(
    private readonly repo: DevicesRepo,
    private readonly bus: EventBus,
  ) {}

  get running(): boolean {
    return this.browser !== undefined;
  }

  async start(args: BrowseArgs): Promise<{ running: boolean; interfaces: string[] }> {
    await this.stop();
    this.interfaces = laptopInterfaces(args.interfaces);
    this.subnets = this.interfaces.flatMap((i) => (i.ipv4 ? [safeRange(i.ipv4.cidr)] : [])).filter((r): r is Ipv4Range => r !== undefined);
    const browser = new MdnsBrowser({ interfaces: this.interfaces, serviceTypes: args.serviceTypes });
    browser.on('changed', (hosts) => this.onMdnsChanged(hosts));
    this.browser = browser;
    await browser.start();
    this.livenessTimer = setInterval(() => void this.checkLiveness(args.livenessIntervalMs), args.livenessIntervalMs);
    if (args.serialPollMs > 0) {
      this.serialPorts = await listSerialPorts(args.serialPaths);
      this.serialTimer = setInterval(() => void this.pollSerial(args.serialPaths), args.serialPollMs);
    }
    if (args.sweepIntervalMs > 0) {
      const sweepArgs = ScanArgs.parse({ interfaces: args.interfaces, cidrs: args.cidrs, ports: args.ports, mdns: false, sweep: true, serial: false });
      this.sweepTimer = setInterval(() => void this.resweep(sweepArgs), args.sweepIntervalMs);
    }
    return { running: true, interfaces: this.interfaces.map((i) => i.name) };
  }

  private async resweep(args: ScanArgs): Promise<void> {
    if (this.sweeping || !this.running) return;
    this.sweeping = true;
    try {
      await scanOnce(args, this.repo, this.bus, { progress: false });
    } catch (err) {
      // A sweep that cannot run (an interface gone, a CIDR refused) must not stop live discovery; the UI says so
      // once per reason.
      this.bus.emit('discovery:resweep-failed', { message: err instanceof Error ? err.message : String(err) });
    } finally {
      this.sweeping = false;
    }
  }

  private onMdnsChanged(hosts: MdnsHost[]): void {
    const now = new Set(hosts.map((h) => h.hostname));
    // Only hosts whose records changed count as sightings: a cached record of a device that died without a
    // goodbye must not bring it back online whenever some other host announces itself.
    const fresh = hosts.filter((h) => this.lastAnnounced.get(h.hostname) !== JSON.stringify(h));
    this.lastAnnounced = new Map(hosts.map((h) => [h.hostname, JSON.stringify(h)]));
    if (fresh.length) saveMerge(this.repo, this.bus, fresh.map(mdnsSighting));
    // Hosts whose records all left (goodbye packets or expired TTLs) are gone from the network's point of view.
    const departed = [...this.knownHosts].filter((h) => !now.has(h));
    this.knownHosts = now;
    const stale = this.repo.list().filter((d) => d.state !== 'stale' && d.hostnames.some((h) => departed.includes(h)));
    this.markStale(stale);
  }

  private markStale(devices: Device[]): void {
    for (const d of devices) this.repo.save({ ...d, state: 'stale' });
    if (devices.length) this.bus.emit('devices:changed', { ids: devices.map((d) => d.id) });
  }

  private async checkLiveness(intervalMs: number): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const timeout = Math.min(1_000, Math.max(200, Math.floor(intervalMs / 2)));
      const candidates = this.repo.list().filter((d) => d.addresses.some((a) => this.subnets.some((r) => contains(r, a))));
      const results = await Promise.all(
        candidates.map(async (d) => {
          const port = livenessPort(d);
          const address = d.addresses.find((a) => this.subnets.some((r) => contains(r, a)));
          if (address === undefined) return { d, alive: undefined };
          return { d, alive: (await tcpProbe(address, port, timeout)) !== 'silent' };
        }),
      );
      const goneStale: Device[] = [];
      const cameBack: Device[] = [];
      for (const { d, alive } of results) {
        if (alive === undefined) continue;
        if (alive) {
          this.misses.delete(d.id);
          if (d.state !== 'online') cameBack.push(d);
          continue;
        }
        const misses = (this.misses.get(d.id) ?? 0) + 1;
        this.misses.set(d.id, misses);
        if (misses >= MISSES_BEFORE_STALE && d.state !== 'stale') goneStale.push(d);
      }
      if (!this.running) return;
      this.markStale(goneStale);
      if (cameBack.length) saveMerge(this.repo, this.bus, cameBack.map((d) => ({ source: d.sources.includes('sweep') ? 'sweep' : 'mdns', addresses: d.addresses.slice(0, 1), hostnames: d.hostnames })));
    } finally {
      this.checking = false;
    }
  }

  private async pollSerial(extra: readonly string[] | undefined): Promise<void> {
    const ports = await listSerialPorts(extra);
    const diff = diffPorts(this.serialPorts, ports);
    this.serialPorts = ports;
    if (!diff.added.length && !diff.removed.length) return;
    this.bus.emit('discovery:serial-changed', diff);
    const added = ports.filter((p) => diff.added.includes(p.path));
    if (added.length) saveMerge(this.repo, this.bus, added.map(serialSighting));
    this.markStale(this.repo.list().filter((d) => d.serialPath !== null && diff.removed.includes(d.serialPath) && d.addresses.length === 0 && d.state !== 'stale'));
  }

  async stop(): Promise<{ running: boolean }> {
    clearInterval(this.livenessTimer);
    clearInterval(this.serialTimer);
    clearInterval(this.sweepTimer);
    const browser = this.browser;
    this.browser = undefined;
    this.misses.clear();
    this.knownHosts.clear();
    this.lastAnnounced.clear();
    await browser?.stop();
    return { running: false };
  }
}

function safeRange(cidr: string): Ipv4Range | undefined {
  try {
    return parseCidr(cidr);
  } catch {
    return undefined;
  }
}
