import type Docker from 'dockerode';
import type { Device } from '../../../shared/contract';
import { OutpostError } from '../../../shared/errors';
import type { DevicesRepo } from '../store/devices-repo';
import { dockerOverSsh } from './docker-link';
import type { SshConnection, SshTarget, TrustPolicy } from './ssh-connection';
import type { SshPool } from './ssh-pool';

export interface LinkOptions {
  user?: string;
  port?: number;
  identityFile?: string;
  password?: string;
  trust?: TrustPolicy;
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
  ) {}

  targetFor(device: Device, opts: LinkOptions = {}): SshTarget {
    return {
      host: dialAddress(device),
      port: opts.port ?? device.ssh.port,
      user: opts.user ?? device.ssh.user,
      identityFile: opts.identityFile,
      password: opts.password,
    };
  }

  async ssh(device: Device, opts: LinkOptions = {}): Promise<SshConnection> {
    const conn = await this.pool.get(this.targetFor(device, opts), opts.trust);
    if (device.ssh.hostKeyFingerprint !== conn.hostKeyFingerprint) {
      const current = this.devices.find(device.id);
      if (current) this.devices.save({ ...current, ssh: { ...current.ssh, hostKeyFingerprint: conn.hostKeyFingerprint } });
    }
    return conn;
  }

  async docker(device: Device, opts: LinkOptions = {}): Promise<Docker> {
    const conn = await this.ssh(device, opts);
    let docker = this.engines.get(conn);
    if (!docker) {
      docker = dockerOverSsh(conn).docker;
      this.engines.set(conn, docker);
    }
    return docker;
  }
}
