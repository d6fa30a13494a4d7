import type Docker from 'dockerode';
import type { Device, EngineFound, LinkOptions } from '../../../shared/contract';
import { OutpostError, toErrorBody } from '../../../shared/errors';
import type { DevicesRepo } from '../store/devices-repo';
import type { DeviceLinks } from '../transport/device-links';
import type { SshConnection } from '../transport/ssh-connection';
import { engineError, withTimeout } from './engine-errors';
import { locateEngine } from './locate';

/**
 * How a device's engine is reached: its unix socket on the device, through the device's SSH connection (where it
 * lives is found by locateEngine), or Docker over mTLS on the network (the PKI's client certificates).
 */
export type EngineEndpoint = { kind: 'ssh'; socket: string } | { kind: 'tls'; host: string; port: number };

export interface Engine {
  deviceId: string;
  deviceName: string;
  endpoint: EngineEndpoint;
  docker: Docker;
  /** The SSH connection under the engine, for execs and file staging on the same link. */
  ssh: SshConnection;
  /** What answered and where (Docker, Podman, balena-engine), as recorded in the device's details. */
  found: EngineFound;
}

export interface DeviceResult<T> {
  deviceId: string;
  deviceName: string;
  ok: boolean;
  value?: T;
  error?: { kind: string; message: string };
  engine?: { socket: string; source: string; product: string; version?: string };
}

/**
 * One engine client per device, results tagged with the device, a deadline on every call, and a fresh client
 * after the link under it drops. One dead engine is reported as such and never blanks the fleet view.
 */
export class EngineRegistry {
  private readonly engines = new Map<string, Engine>();
  private readonly reachedListeners = new Set<(device: Device, engine: Engine, fresh: boolean) => void>();

  constructor(
    private readonly links: DeviceLinks,
    private readonly devices: DevicesRepo,
    readonly defaultTimeoutMs = 15_000,
    /** Told when a device's record changed (its engine was found somewhere new), so views refresh. */
    private readonly onDeviceChanged: (id: string) => void = () => undefined,
  ) {}

  device(ref: string): Device {
    const device = this.devices.find(ref);
    if (!device) throw new OutpostError('not-found', `no device matches ${JSON.stringify(ref)}`);
    return device;
  }

  /** TLS when the device's engine is set up for mTLS; else SSH (the socket is found on connecting). */
  endpointKind(device: Device): EngineEndpoint['kind'] {
    return device.docker?.tls ? 'tls' : 'ssh';
  }

  async engine(device: Device, link?: LinkOptions): Promise<Engine> {
    const cached = this.engines.get(device.id);
    if (cached?.ssh.isOpen) return cached;
    if (this.endpointKind(device) === 'tls') throw new OutpostError('unsupported', `${device.name}: Docker over mTLS (port ${device.docker?.port ?? 2376}) arrives with the site certificates; use SSH for now`);
    const ssh = await this.links.ssh(device, link);
    const { found, docker } = await locateEngine(ssh, device.name, device.docker?.socket);
    this.record(device.id, found);
    const engine: Engine = { deviceId: device.id, deviceName: device.name, endpoint: { kind: 'ssh', socket: found.socket }, docker, ssh, found };
    this.engines.set(device.id, engine);
    ssh.onClose(() => {
      if (this.engines.get(device.id) === engine) this.engines.delete(device.id);
    });
    this.reached(device, engine, true);
    return engine;
  }

  /**
   * Tells `listener` each time a device's engine is reached: `fresh` when its link was (re)established, otherwise
   * after a call on it succeeded. Listeners must not throw or block (reconcile after an interruption hooks in here).
   */
  onReached(listener: (device: Device, engine: Engine, fresh: boolean) => void): () => void {
    this.reachedListeners.add(listener);
    return () => this.reachedListeners.delete(listener);
  }

  private reached(device: Device, engine: Engine, fresh: boolean): void {
    for (const listener of this.reachedListeners) listener(device, engine, fresh);
  }

  /** Runs `fn` against one device's engine within a deadline (connecting included); errors carry a kind and the device's name. */
  async call<T>(device: Device, fn: (engine: Engine) => Promise<T>, opts: { link?: LinkOptions; timeoutMs?: number; what?: string } = {}): Promise<T> {
    const ms = opts.timeoutMs ?? this.defaultTimeoutMs;
    const what = opts.what ?? 'engine call';
    try {
      return await withTimeout(
        this.engine(device, opts.link).then(async (e) => {
          const value = await fn(e);
          this.reached(device, e, false);
          return value;
        }),
        ms,
        `${device.name}: ${what} got no answer within ${ms} ms (link down or engine hung)`,
      );
    } catch (err) {
      throw engineError(device.name, err, what);
    }
  }

  /** The same call on many devices at once; each answers for itself. */
  async fleet<T>(devices: Device[], fn: (engine: Engine) => Promise<T>, opts: { link?: LinkOptions; timeoutMs?: number; what?: string } = {}): Promise<Array<DeviceResult<T>>> {
    const settled = await Promise.allSettled(devices.map((d) => this.call(d, fn, opts)));
    return settled.map((s, i) => {
      const d = devices[i] as Device;
      const found = this.engines.get(d.id)?.found;
      const engine = found ? { socket: found.socket, source: found.source, product: found.product, version: found.version } : undefined;
      if (s.status === 'fulfilled') return { deviceId: d.id, deviceName: d.name, ok: true, value: s.value, engine };
      const body = toErrorBody(s.reason);
      return { deviceId: d.id, deviceName: d.name, ok: false, error: { kind: body.kind, message: body.message } };
    });
  }

  /** Keeps what was found in the device's details; a change (another place, another engine) is announced. */
  private record(deviceId: string, found: EngineFound): void {
    const current = this.devices.find(deviceId);
    if (!current) return;
    const before = current.docker?.engine;
    const same = before && before.socket === found.socket && before.product === found.product && before.version === found.version && before.systemd === found.systemd;
    this.devices.save({ ...current, docker: { ...(current.docker ?? {}), engine: found, apiVersion: found.apiVersion ?? current.docker?.apiVersion } });
    if (!same) this.onDeviceChanged(deviceId);
  }

  /** Forgets a device's client, e.g. after a transfer stalled on a dead link, so the next call reconnects. */
  forget(device: Device): void {
    const engine = this.engines.get(device.id);
    this.engines.delete(device.id);
    // The link is presumed dead: a polite close would leave every call in flight on it waiting for ever.
    engine?.ssh.destroy();
  }
}
