import type Docker from 'dockerode';
import type { Device, LinkOptions } from '../../../shared/contract';
import { effectiveLink, siteDefaultsFor, type EffectiveLink, type LinkDefaultsTable } from '../../../shared/contract/link-resolve';
import { OutpostError } from '../../../shared/errors';
import type { DevicesRepo } from '../store/devices-repo';
import { cipherFor, parseCpuInfo } from './cpu-features';
import { dockerOverSsh } from './docker-link';
import type { SshConnection, SshTarget, TrustPolicy } from './ssh-connection';
import type { SshPool } from './ssh-pool';
import type { KnownHosts } from './known-hosts';

/** The contract's link options, plus a password for the one call that logs in with one (installing the laptop key). */
export type DialOptions = LinkOptions & { password?: string };

/** What the technician confirmed about the device's host key, in the SSH pool's terms. */
export function trustPolicy(link: LinkOptions | undefined): TrustPolicy | undefined {
  if (!link?.acceptNewHostKey && link?.expectedFingerprint === undefined) return undefined;
  return { acceptNew: link.acceptNewHostKey, expectedFingerprint: link.expectedFingerprint };
}

/** The address Outpost dials for a device: its first known address, else its first hostname. */
export function dialAddress(device: Device): string {
  const host = device.addresses[0] ?? device.hostnames[0];
  if (!host) throw new OutpostError('invalid-input', `device ${device.name} has no network address (serial only?)`);
  return host;
}

/**
 * Links from the laptop to devices: the SSH connection (one per device, pooled) and the Docker engine over it.
 * Learns each device's host key fingerprint into the inventory on first successful connection.
 */
export class DeviceLinks {
  private readonly engines = new WeakMap<SshConnection, Docker>();

  constructor(
    private readonly pool: SshPool,
    private readonly devices: DevicesRepo,
    private readonly knownHosts?: KnownHosts,
    /** The link defaults (every site, per site), read at each dial (another process may have changed them). */
    private readonly linkDefaults: () => LinkDefaultsTable = () => ({ all: {}, sites: {} }),
  ) {}

  /** What a call will use: the per-run options, the device's own settings, its site's defaults, built-in. */
  effective(device: Pick<Device, 'ssh'> & { tags?: Device['tags'] }, opts: LinkOptions = {}): EffectiveLink {
    return effectiveLink(device, opts, siteDefaultsFor(this.linkDefaults(), device));
  }

  /**
   * Keys pinned for this device at its other addresses and names: after a DHCP move (the merge proved it is the same
   * device: same MAC, same key) its own key is not asked about again at the new address.
   */
  knownForDevice(device: Device, port: number = this.effective(device).port): string[] {
    if (!this.knownHosts) return [];
    const here = dialAddress(device);
    const others = [...device.addresses, ...device.hostnames].filter((h) => h !== here);
    return [...new Set(this.knownHosts.pinnedForAny(others, port).map((k) => k.fingerprint))];
  }

  /** Where and as whom to log in: the per-run options, the device's own settings, the site's defaults, built-in. */
  targetFor(device: Device, opts: DialOptions = {}): SshTarget {
    const { password: _password, ...link0 } = opts;
    const link = this.effective(device, link0);
    return { host: dialAddress(device), port: link.port, user: link.user, identityFile: link.identityFile ?? undefined, password: opts.password, cipher: device.ssh.cipher };
  }

  async ssh(device: Device, opts: DialOptions = {}): Promise<SshConnection> {
    // The stored record: a cipher chosen by an earlier connection applies from the next one.
    const stored = this.devices.find(device.id);
    const target = this.targetFor(stored ? { ...device, ssh: { ...device.ssh, cipher: stored.ssh.cipher } } : device, opts);
    const conn = await this.pool.get(target, { ...trustPolicy(opts), knownForDevice: this.knownForDevice(device, target.port) }, stored && stored.ssh.cipher === undefined ? (first) => this.chooseCipher(device.id, first) : undefined);
    if (device.ssh.hostKeyFingerprint !== conn.hostKeyFingerprint) {
      const current = this.devices.find(device.id);
      if (current) this.devices.save({ ...current, ssh: { ...current.ssh, hostKeyFingerprint: conn.hostKeyFingerprint } });
    }
    return conn;
  }

  /**
   * Reads the device's CPU features once (one exec of `cat /proc/cpuinfo`) and stores the cipher chosen for them
   * (cpu-features.ts), so every later connection asks for it. A device whose cpuinfo cannot be read keeps AES-GCM.
   */
  private async chooseCipher(deviceId: string, conn: SshConnection): Promise<string> {
    let aes: boolean | null = null;
    try {
      const r = await conn.run(['cat', '/proc/cpuinfo'], { maxBytes: 1024 * 1024 });
      if (r.code === 0) aes = parseCpuInfo(r.stdout.toString('utf8')).aes;
    } catch {
      // unreadable: unknown
    }
    const cipher = cipherFor(aes);
    const current = this.devices.find(deviceId);
    if (current) this.devices.save({ ...current, ssh: { ...current.ssh, cpuAes: aes, cipher } });
    return cipher;
  }

  async docker(device: Device, opts: DialOptions = {}): Promise<Docker> {
    const conn = await this.ssh(device, opts);
    let docker = this.engines.get(conn);
    if (!docker) {
      docker = dockerOverSsh(conn).docker;
      this.engines.set(conn, docker);
    }
    return docker;
  }
}
